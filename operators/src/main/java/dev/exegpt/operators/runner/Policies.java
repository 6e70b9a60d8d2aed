package dev.exegpt.operators.runner;

import dev.exegpt.scheduler.policy.BatchingPolicy;
import dev.exegpt.scheduler.policy.ContinuousBatching;
import dev.exegpt.scheduler.policy.RoundRobinAllocation;
import dev.exegpt.scheduler.policy.StaticBatching;
import dev.exegpt.schemas.Schedule;

/**
 * The batching policy an executor runs for a {@link Schedule}: the same classes the XSimulator drives (STYLE.md C9),
 * so that a gap between simulated and measured figures points at the cost model, not at a second copy of the logic.
 */
public final class Policies {

    private Policies() {}

    /** The policy of a single-engine executor (RRA and the baselines that run encode and decode on one group). */
    public static BatchingPolicy forExecutor(Schedule s) {
        return switch (s.getPolicy()) {
            case RRA -> new RoundRobinAllocation(s.getEncodeBatchSize(), Math.max(1, s.getDecodeIterationsPerEncode()));
            case STATIC -> new StaticBatching(s.getEncodeBatchSize());
            // Orca's emulation admits one prefill per iteration (PAPER.md §12.5); the decode batch caps the active set.
            case CONTINUOUS -> new ContinuousBatching(1, Math.max(1, s.getDecodeBatchSize()));
            default -> throw new IllegalArgumentException("schedule " + s.getScheduleId() + ": policy " + s.getPolicy()
                    + " needs separate encoder and decoder executors; a single executor runs RRA, STATIC or CONTINUOUS");
        };
    }
}
