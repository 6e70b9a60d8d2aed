package dev.exegpt.scheduler.plan;

import java.util.List;

import dev.exegpt.scheduler.policy.BatchingPolicy;
import dev.exegpt.scheduler.policy.BudgetedPromptBatching;
import dev.exegpt.scheduler.policy.ChunkedPrefillBatching;
import dev.exegpt.scheduler.policy.ContinuousBatching;
import dev.exegpt.scheduler.policy.RoundRobinAllocation;
import dev.exegpt.scheduler.policy.StaticBatching;
import dev.exegpt.scheduler.policy.WorkloadAwareAllocation;

/**
 * The one place that maps a plan to its executors (DESIGN.md §4, ARCHITECTURE.md move 1): which roles a policy runs
 * (one group doing both, or an encoder group handing over to a decoder group) and each role's batching policy with
 * its arguments. The event simulator and the job's executors both ask here, so they run the same policies with the
 * same arguments for the same plan. The switches are exhaustive: a new {@link Policy} does not compile until it has
 * its entry.
 */
public final class PolicyRegistry {

    private PolicyRegistry() {}

    /** The executor roles of a plan, in hand-over order. */
    public static List<Role> roles(Policy policy) {
        return switch (policy) {
            case RRA, STATIC, CONTINUOUS, VLLM_V0, VLLM_V1 -> List.of(Role.FULL);
            case WAA_C, WAA_M, DISAGGREGATED -> List.of(Role.ENCODER, Role.DECODER);
        };
    }

    /**
     * Whether the plan's steps prefill prompts in chunks on top of the KV cache of their earlier chunks (vLLM V1): an
     * engine must be able to, and an encoder-decoder model cannot (vLLM V1 serves decoder-only models).
     */
    /**
     * Requests an executor must hold at once for a schedule to decide its own batches: a full decode batch (or vLLM's
     * sequence cap, or an encode batch where that is larger) and the next encode batches waiting behind it; at least 16.
     * The job's async capacity and the replica planner's checkpointed in-flight state both count it.
     */
    public static int requestsHeld(int encodeBatchSize, int decodeBatchSize, int maxNumSeqs) {
        int decode = Math.max(Math.max(decodeBatchSize, encodeBatchSize), maxNumSeqs);
        return Math.max(16, 2 * decode + 4 * encodeBatchSize);
    }

    public static boolean chunksPrefills(Policy policy) {
        return switch (policy) {
            case VLLM_V1 -> true;
            case RRA, WAA_C, WAA_M, STATIC, CONTINUOUS, DISAGGREGATED, VLLM_V0 -> false;
        };
    }

    /** Whether the plan runs separate encoder and decoder groups. */
    public static boolean splitsEncodeAndDecode(Policy policy) {
        return roles(policy).size() > 1;
    }

    /** The batching policy of one executor of the plan; a role the plan does not run is an error. */
    public static BatchingPolicy policy(PlanArgs a, Role role) {
        if (!roles(a.policy()).contains(role)) {
            throw new IllegalArgumentException("policy " + a.policy() + " runs " + roles(a.policy()) + ", not " + role);
        }
        return switch (a.policy()) {
            case RRA -> new RoundRobinAllocation(a.encodeBatchSize(), a.decodeIterationsPerEncode());
            case STATIC -> new StaticBatching(a.encodeBatchSize());
            case CONTINUOUS -> new ContinuousBatching(a.admitPerIteration(), a.maxActive());
            case VLLM_V0 -> new BudgetedPromptBatching(a.maxActive(), a.maxNumBatchedTokens());
            case VLLM_V1 -> new ChunkedPrefillBatching(a.maxActive(), a.maxNumBatchedTokens());
            case WAA_C, WAA_M, DISAGGREGATED -> role == Role.ENCODER
                    ? WorkloadAwareAllocation.encoderSide(a.encodeBatchSize(), a.decodeBacklogLimit(), a.meanInputTokens())
                    : WorkloadAwareAllocation.decoderSide();
        };
    }
}
