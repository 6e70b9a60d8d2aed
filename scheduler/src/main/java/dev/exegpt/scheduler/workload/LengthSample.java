package dev.exegpt.scheduler.workload;

import static dev.exegpt.scheduler.Require.require;

/** One request's input and (forced) output token counts. */
public record LengthSample(int numInputTokens, int numOutputTokens) {
    public LengthSample {
        require(numInputTokens >= 1, "numInputTokens must be >= 1, got %s", numInputTokens);
        require(numOutputTokens >= 1, "numOutputTokens must be >= 1, got %s", numOutputTokens);
    }
}
