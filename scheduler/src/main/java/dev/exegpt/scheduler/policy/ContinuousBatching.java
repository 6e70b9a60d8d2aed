package dev.exegpt.scheduler.policy;

import static dev.exegpt.scheduler.Require.require;

/**
 * Orca / vLLM iteration-level batching as the paper emulated it (PAPER.md §12.5): every iteration decodes the active
 * set and admits up to admitPerIteration new prefills (one per pipeline micro-batch), up to maxActive requests.
 */
public final class ContinuousBatching implements BatchingPolicy {
    private final int admitPerIteration;
    private final int maxActive;

    public ContinuousBatching(int admitPerIteration, int maxActive) {
        require(admitPerIteration >= 1, "admitPerIteration must be >= 1, got %s", admitPerIteration);
        require(maxActive >= 1, "maxActive must be >= 1, got %s", maxActive);
        this.admitPerIteration = admitPerIteration;
        this.maxActive = maxActive;
    }

    @Override
    public StepPlan next(ExecutorView v) {
        int admit = Math.min(Math.min(admitPerIteration, v.numWaiting()), Math.max(0, maxActive - v.numActive()));
        if (v.numActive() == 0 && admit == 0) return StepPlan.IDLE;
        return new StepPlan(StepPlan.Kind.DECODE, admit);
    }
}
