package dev.exegpt.scheduler.policy;

import static dev.exegpt.scheduler.Require.require;

/** FasterTransformer (PAPER.md §12.5): take B requests, decode until every one is done, return them together. */
public final class StaticBatching implements BatchingPolicy {
    private final int batchSize;

    public StaticBatching(int batchSize) {
        require(batchSize >= 1, "batchSize must be >= 1, got %s", batchSize);
        this.batchSize = batchSize;
    }

    @Override
    public StepPlan next(ExecutorView v) {
        if (v.numActive() > 0) return StepPlan.DECODE;
        return v.numWaiting() > 0 ? StepPlan.encode(Math.min(batchSize, v.numWaiting())) : StepPlan.IDLE;
    }

    @Override
    public boolean earlyTermination() {
        return false;
    }
}
