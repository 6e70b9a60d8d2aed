package dev.exegpt.operators.runner;

import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.cost.fit.MeasuredStep;

/**
 * One engine step as an {@link ExecutorRunner} ran it, for whoever compares the engine with its cost model (the
 * simulator's fidelity check) or draws its timeline.
 *
 * @param kind                 ENCODE (the prompts of {@code inputTokens}) or DECODE (one iteration of the active set)
 * @param startEpochMs         the step began
 * @param endEpochMs           it ended
 * @param inputTokens          ENCODE: each encoded prompt's length; DECODE: each active sequence's prompt length
 * @param numContextTokens     DECODE: the positions the batch attends to in all (prompt plus generated so far, summed
 *                             over the sequences); ENCODE: the prompt tokens
 */
public record EngineStep(Kind kind, double startEpochMs, double endEpochMs, int[] inputTokens, long numContextTokens) {

    public enum Kind { ENCODE, DECODE }

    public EngineStep {
        if (endEpochMs < startEpochMs) {
            throw new IllegalArgumentException("endEpochMs " + endEpochMs + " before startEpochMs " + startEpochMs);
        }
    }

    public double durationMs() {
        return endEpochMs - startEpochMs;
    }

    public int batchSize() {
        return inputTokens.length;
    }

    /** The step as the cost model's fits read it. */
    public MeasuredStep measured() {
        return new MeasuredStep(kind == Kind.ENCODE ? Phase.ENCODE : Phase.DECODE, startEpochMs, endEpochMs, inputTokens,
                numContextTokens);
    }
}
