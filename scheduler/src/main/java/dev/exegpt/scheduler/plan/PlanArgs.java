package dev.exegpt.scheduler.plan;

import static dev.exegpt.scheduler.Require.require;

/**
 * What a plan fixes for its executors' batching policies, read from one place ({@code ScheduleCodec.planArgs}) by
 * both drivers: the event simulator (virtual clock) and the job's executors (real clock).
 *
 * @param policy                    the plan's policy
 * @param encodeBatchSize           B_E (STATIC: the batch)
 * @param decodeIterationsPerEncode N_D under RRA (1 elsewhere)
 * @param decodeBacklogLimit        WAA and DISAGGREGATED: the decoder backlog the encoder side steers by (the planned
 *                                  decode batch, or its peak when the encoder is the slower side); 1 elsewhere
 * @param maxActive                 CONTINUOUS: most requests in the running batch (the plan's decode batch);
 *                                  VLLM_V0 / VLLM_V1: max_num_seqs
 * @param admitPerIteration         CONTINUOUS: prefills admitted per iteration (one per pipeline stage)
 * @param meanInputTokens           the workload's mean input length, which sizes WAA's encoder batches by tokens
 * @param maxNumBatchedTokens       VLLM_V0 / VLLM_V1: the token budget of one step; 0 elsewhere
 */
public record PlanArgs(Policy policy, int encodeBatchSize, int decodeIterationsPerEncode, int decodeBacklogLimit,
                       int maxActive, int admitPerIteration, double meanInputTokens, int maxNumBatchedTokens) {
    public PlanArgs {
        require(policy != null, "policy must be set");
        require(encodeBatchSize >= 1, "encodeBatchSize must be >= 1, got %s", encodeBatchSize);
        require(decodeIterationsPerEncode >= 1, "decodeIterationsPerEncode must be >= 1, got %s", decodeIterationsPerEncode);
        require(decodeBacklogLimit >= 1, "decodeBacklogLimit must be >= 1, got %s", decodeBacklogLimit);
        require(maxActive >= 1, "maxActive must be >= 1, got %s", maxActive);
        require(admitPerIteration >= 1, "admitPerIteration must be >= 1, got %s", admitPerIteration);
        require(meanInputTokens > 0, "meanInputTokens must be > 0, got %s", meanInputTokens);
        require(!policy.isVllm() || maxNumBatchedTokens >= 1, "maxNumBatchedTokens must be >= 1 under %s, got %s", policy,
                maxNumBatchedTokens);
    }
}
