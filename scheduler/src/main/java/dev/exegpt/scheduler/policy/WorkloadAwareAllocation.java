package dev.exegpt.scheduler.policy;

import static dev.exegpt.scheduler.Require.require;

/**
 * WAA's two sides (PAPER.md §5.2, §7). The encoder side encodes B_E requests whenever the decoder's backlog is
 * below its planned batch B_D plus a threshold (the runtime adjustment: a decode batch above its threshold holds the
 * encoder back); the decoder side runs an iteration whenever it has work, merging handed-over requests first.
 * DISAGGREGATED uses the same two sides with its own devices.
 */
public final class WorkloadAwareAllocation {
    private WorkloadAwareAllocation() {}

    /** Runtime adjustment threshold [choice]: the decode batch may exceed its plan by 10% before encoding pauses. */
    public static final double BACKLOG_THRESHOLD = 0.10;

    public static BatchingPolicy encoderSide(int encodeBatchSize, int plannedDecodeBatch) {
        require(encodeBatchSize >= 1, "encodeBatchSize must be >= 1, got %s", encodeBatchSize);
        double limit = plannedDecodeBatch * (1 + BACKLOG_THRESHOLD);
        return v -> v.numWaiting() > 0 && v.numDownstreamBacklog() + encodeBatchSize <= Math.max(limit, encodeBatchSize)
                ? StepPlan.encode(Math.min(encodeBatchSize, v.numWaiting())) : StepPlan.IDLE;
    }

    public static BatchingPolicy decoderSide() {
        return v -> v.numActive() > 0 || v.numWaiting() > 0 ? StepPlan.DECODE : StepPlan.IDLE;
    }
}
