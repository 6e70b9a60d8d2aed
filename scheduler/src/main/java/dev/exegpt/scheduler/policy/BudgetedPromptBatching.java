package dev.exegpt.scheduler.policy;

import static dev.exegpt.scheduler.Require.require;

/**
 * vLLM V0's default scheduler without chunked prefill (vLLM v0.6, {@code Scheduler._schedule_default}), the peer for
 * encoder-decoder models too: when waiting prompts can be admitted, the step is prompt-only and batches as many of
 * them, first come first served, as fit the token budget (their prompt tokens, {@code max_num_batched_tokens}) and
 * the sequence cap (running plus new, {@code max_num_seqs}); otherwise it is one decode iteration of the running set.
 * Prefills go first, so a burst of arrivals stalls the running requests' decoding, which is what V1's chunked
 * prefill removed. V0 required {@code max_num_batched_tokens >= max_model_len}, so one prompt always fits: the first
 * waiting prompt is admitted whatever its length.
 */
public final class BudgetedPromptBatching implements BatchingPolicy {
    private final int maxNumSeqs;
    private final int maxNumBatchedTokens;

    public BudgetedPromptBatching(int maxNumSeqs, int maxNumBatchedTokens) {
        require(maxNumSeqs >= 1, "maxNumSeqs must be >= 1, got %s", maxNumSeqs);
        require(maxNumBatchedTokens >= 1, "maxNumBatchedTokens must be >= 1, got %s", maxNumBatchedTokens);
        this.maxNumSeqs = maxNumSeqs;
        this.maxNumBatchedTokens = maxNumBatchedTokens;
    }

    @Override
    public StepPlan next(ExecutorView v) {
        int room = Math.min(v.numWaiting(), maxNumSeqs - v.numActive());
        int[] head = v.headInputTokens();
        int n = 0;
        long tokens = 0;
        while (n < room && (n == 0 || (n < head.length && tokens + head[n] <= maxNumBatchedTokens))) {
            tokens += n < head.length ? head[n] : 0;
            n++;
        }
        if (n > 0) return StepPlan.encode(n);
        return v.numActive() > 0 ? StepPlan.DECODE : StepPlan.IDLE;
    }
}
