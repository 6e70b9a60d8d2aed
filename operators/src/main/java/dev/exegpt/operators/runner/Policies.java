package dev.exegpt.operators.runner;

import dev.exegpt.scheduler.policy.BatchingPolicy;
import dev.exegpt.scheduler.policy.ContinuousBatching;
import dev.exegpt.scheduler.policy.RoundRobinAllocation;
import dev.exegpt.scheduler.policy.StaticBatching;
import dev.exegpt.scheduler.policy.WorkloadAwareAllocation;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.Schedule;

/**
 * The batching policy an executor runs for a {@link Schedule}: the same classes the XSimulator drives (STYLE.md C9),
 * so that a gap between simulated and measured figures points at the cost model, not at a second copy of the logic.
 */
public final class Policies {

    private Policies() {}

    /** The policy of an executor in a role: the schedule's own for FULL, WAA's two sides otherwise. */
    public static BatchingPolicy forRole(Schedule s, Role role) {
        return switch (role) {
            case FULL -> forExecutor(s);
            case ENCODER -> WorkloadAwareAllocation.encoderSide(s.getEncodeBatchSize(), Math.max(1, s.getDecodeBatchSize()),
                    meanInputTokens(s.getTask()));
            case DECODER -> WorkloadAwareAllocation.decoderSide();
        };
    }

    /** The planned task's mean input length, which sizes WAA's encoder workload (PAPER.md §7). */
    static double meanInputTokens(String task) {
        try {
            return Workloads.byName(task).meanInputTokens();
        } catch (IllegalArgumentException | NullPointerException unknownTask) {
            return DEFAULT_MEAN_INPUT_TOKENS;
        }
    }

    /** Mean input length assumed for a schedule whose task has no distribution file. */
    static final double DEFAULT_MEAN_INPUT_TOKENS = 256;

    /** The role layout a schedule needs: separate encoder and decoder groups for WAA and DISAGGREGATED. */
    public static boolean splitsEncodeAndDecode(Schedule s) {
        return switch (s.getPolicy()) {
            case WAA_C, WAA_M, DISAGGREGATED -> true;
            default -> false;
        };
    }

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
