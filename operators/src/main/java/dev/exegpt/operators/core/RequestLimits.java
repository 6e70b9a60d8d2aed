package dev.exegpt.operators.core;

import java.io.Serializable;
import java.util.Set;

/**
 * What a valid request must respect, from the model and the configuration.
 *
 * @param knownTasks         tasks the job has a length distribution and SLO for
 * @param vocabSize          token ids must lie in [0, vocabSize)
 * @param maxPromptTokens    longest prompt the model accepts, tokens
 * @param maxTotalTokens     prompt plus output must fit, tokens (the model's positions; 0 for no limit)
 * @param maxNewTokensLimit  largest maxNewTokens accepted
 * @param maxSloLatencyMs    largest per-request SLO accepted, ms (larger is almost surely a unit mistake)
 */
public record RequestLimits(Set<String> knownTasks, int vocabSize, int maxPromptTokens, int maxTotalTokens,
                            int maxNewTokensLimit, long maxSloLatencyMs) implements Serializable {

    public static final long DEFAULT_MAX_SLO_LATENCY_MS = 24L * 3600 * 1000;
    /** Longest request id accepted, characters: ids are keys on every topic. */
    public static final int MAX_REQUEST_ID_CHARS = 256;
    /** Most characters of client metadata (keys and values) a request may carry: it comes back in the result. */
    public static final int MAX_METADATA_CHARS = 64 * 1024;

    public RequestLimits {
        knownTasks = Set.copyOf(knownTasks);
        if (knownTasks.isEmpty()) {
            throw new IllegalArgumentException("knownTasks must name at least one task");
        }
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocabSize must be >= 1, got " + vocabSize);
        }
        if (maxPromptTokens < 1) {
            throw new IllegalArgumentException("maxPromptTokens must be >= 1, got " + maxPromptTokens);
        }
        if (maxTotalTokens < 0) {
            throw new IllegalArgumentException("maxTotalTokens must be >= 0 (0: no limit), got " + maxTotalTokens);
        }
        if (maxNewTokensLimit < 1) {
            throw new IllegalArgumentException("maxNewTokensLimit must be >= 1, got " + maxNewTokensLimit);
        }
        if (maxSloLatencyMs < 1) {
            throw new IllegalArgumentException("maxSloLatencyMs must be >= 1, got " + maxSloLatencyMs);
        }
    }
}
