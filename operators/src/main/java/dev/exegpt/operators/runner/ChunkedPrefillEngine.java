package dev.exegpt.operators.runner;

import java.util.List;

import dev.exegpt.runtime.engine.GenerationRequest;
import dev.exegpt.runtime.engine.Sequence;
import dev.exegpt.runtime.engine.StepEngine;

/**
 * An engine that can run vLLM V1's step (chunked prefill): one decode token for each decoding sequence and, in the
 * same step, prompt chunks, each prefilling part of a prompt on top of the KV cache its earlier chunks left. The
 * project's engine (gpu-udf's {@code Engine}) prefills a prompt whole only, so it does not implement this and the job
 * refuses VLLM_V1 schedules ({@link Policies#refusal}); the driver-equality test's clocked engine implements it, so the
 * runner's side of the mechanism is checked against the event simulator all the same.
 */
public interface ChunkedPrefillEngine extends StepEngine {

    /**
     * One prompt chunk: {@code numTokens} prompt tokens of {@code request} after the {@code numComputedTokens} its
     * earlier chunks computed into {@code sequence} (null for the first chunk).
     */
    record PromptChunk(GenerationRequest request, Sequence sequence, int numComputedTokens, int numTokens) {}

    /**
     * Runs one step: a decode iteration of {@code decoding} (each records its next token) and the chunks. Returns
     * each chunk's sequence, in order (the first chunk of a prompt starts one).
     */
    List<Sequence> step(List<Sequence> decoding, List<PromptChunk> chunks);
}
