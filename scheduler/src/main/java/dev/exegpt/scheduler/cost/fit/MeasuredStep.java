package dev.exegpt.scheduler.cost.fit;

import dev.exegpt.scheduler.cost.Phase;

/**
 * One engine step as it ran, the data a fit prices against the cost model: what the executor's runner measured
 * (its {@code EngineStep}), the profiler's calibration and the job's control loop all speak this record.
 *
 * @param phase            ENCODE (the prompts of {@code inputTokens}) or DECODE (one iteration of the active set)
 * @param startEpochMs     the step began
 * @param endEpochMs       it ended
 * @param inputTokens      ENCODE: each encoded prompt's length; DECODE: each active sequence's prompt length
 * @param numContextTokens DECODE: the positions the batch attends to in all (prompt plus generated so far, summed
 *                         over the sequences); ENCODE: the prompt tokens
 */
public record MeasuredStep(Phase phase, double startEpochMs, double endEpochMs, int[] inputTokens, long numContextTokens) {

    public MeasuredStep {
        if (endEpochMs < startEpochMs) {
            throw new IllegalArgumentException("endEpochMs " + endEpochMs + " before startEpochMs " + startEpochMs);
        }
        if (inputTokens.length == 0) {
            throw new IllegalArgumentException("a step of no sequences");
        }
    }

    public double durationMs() {
        return endEpochMs - startEpochMs;
    }

    public int batchSize() {
        return inputTokens.length;
    }
}
