package dev.exegpt.operators.flink;

import dev.exegpt.operators.runner.Handover;
import dev.exegpt.schemas.InferenceResult;

/**
 * What a WAA encoder group emits for a request: its hand-over to the decoder group of the same replica, or its
 * result when it finished in the encode step (one token, or EOS at once) or was refused. Exactly one is set.
 */
public record EncoderOutput(InferenceResult result, Handover handover, int replica) {}
