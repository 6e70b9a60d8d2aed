package dev.exegpt.runtime.engine;

import java.util.List;

/**
 * An engine that can run vLLM V1's step (chunked prefill): one decode token for each decoding sequence and, in the
 * same step, prompt chunks, each prefilling part of a prompt on top of the KV cache its earlier chunks left.
 * {@link Engine} does for decoder-only models (OPT, Llama): a step is one ragged batch whose rows sit at each
 * sequence's own positions, which the layers compute as they compute a prefill or a decode. An encoder-decoder model
 * encodes its prompt whole (vLLM V1 dropped encoder-decoder models), so {@link #chunkedPrefillRefusal} says why not.
 */
public interface ChunkedPrefillEngine extends StepEngine {

    /**
     * One prompt chunk: {@code numTokens} prompt tokens of the sequence's request after the {@code numComputedTokens}
     * its earlier chunks computed into it.
     */
    record PromptChunk(Sequence sequence, int numComputedTokens, int numTokens) {}

    /**
     * Why this engine cannot prefill in chunks (one line), or null when it can.
     */
    String chunkedPrefillRefusal();

    /**
     * Admits a request whose prompt the next steps prefill in chunks: charged and checked like an encode's admission
     * ({@link InvalidRequestException}, {@link CapacityExceededException}), nothing computed yet.
     */
    Sequence start(GenerationRequest request);

    /**
     * Runs one step: a decode iteration of {@code decoding} (each appends its next token) and the chunks; a chunk
     * that completes its prompt appends the sequence's first generated token, as a whole prefill does.
     */
    void step(List<Sequence> decoding, List<PromptChunk> chunks);
}
