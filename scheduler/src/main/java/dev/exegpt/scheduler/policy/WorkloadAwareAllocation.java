package dev.exegpt.scheduler.policy;

import static dev.exegpt.scheduler.Require.require;

/**
 * WAA's two sides (PAPER.md §5.2, §7). The encoder side forms batches by workload: it takes waiting requests until
 * their input tokens reach B_E x the planned mean input (the encoder workload stays near its average, §7), raised by
 * half when the decoder's backlog is below its planned batch B_D by more than the threshold, and it pauses while the
 * backlog is above B_D by more than the threshold (the decoder rule of §7). When the encoder is the slower side
 * (B_D < B_E) it therefore encodes back to back. The decoder side runs an iteration
 * whenever it has work, merging handed-over requests first. DISAGGREGATED uses the same two sides.
 */
public final class WorkloadAwareAllocation {
    private WorkloadAwareAllocation() {}

    /** Runtime adjustment threshold [choice; PAPER.md §16.12]: 10% either side of the planned decode batch. */
    public static final double THRESHOLD = 0.10;

    public static BatchingPolicy encoderSide(int encodeBatchSize, int plannedDecodeBatch, double meanInputTokens) {
        require(encodeBatchSize >= 1, "encodeBatchSize must be >= 1, got %s", encodeBatchSize);
        require(meanInputTokens > 0, "meanInputTokens must be > 0, got %s", meanInputTokens);
        double high = plannedDecodeBatch * (1 + THRESHOLD);
        double low = plannedDecodeBatch * (1 - THRESHOLD);
        return v -> {
            if (v.numWaiting() == 0 || v.numDownstreamBacklog() > high) {
                return StepPlan.IDLE;
            }
            double budget = encodeBatchSize * meanInputTokens * (v.numDownstreamBacklog() < low ? 1.5 : 1.0);
            int n = 0;
            long tokens = 0;
            int[] head = v.headInputTokens();
            int max = Math.min(v.numWaiting(), 2 * encodeBatchSize);
            if (head.length == 0) {
                n = Math.min(encodeBatchSize, v.numWaiting());   // no lengths visible: batch by count
            } else {
                while (n < Math.min(max, head.length) && (n == 0 || tokens + head[n] <= budget * (1 + THRESHOLD))) {
                    tokens += head[n++];
                }
            }
            return StepPlan.encode(Math.max(1, n));
        };
    }

    public static BatchingPolicy decoderSide() {
        return v -> v.numActive() > 0 || v.numWaiting() > 0 ? StepPlan.DECODE : StepPlan.IDLE;
    }
}
