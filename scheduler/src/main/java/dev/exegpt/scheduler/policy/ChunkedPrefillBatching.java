package dev.exegpt.scheduler.policy;

import static dev.exegpt.scheduler.Require.require;

import java.util.Arrays;

/**
 * vLLM V1's scheduler (vLLM v0.11, {@code vllm/v1/core/sched/scheduler.py}, {@code Scheduler.schedule}), the
 * stall-free batching of Sarathi-Serve: every step spends a token budget ({@code max_num_batched_tokens}) on the
 * running requests first, in admission order (a decoding request takes one token; a request whose prompt is being
 * prefilled takes the rest of its prompt, or what is left of the budget), then admits waiting requests while fewer
 * than {@code max_num_seqs} run and budget is left, each taking its prompt or what is left (chunked prefill, always on
 * in V1). Since a partly prefilled request was admitted after every decoding one, decode tokens come first and prompt
 * chunks after them. Not modelled: preemption when the KV cache is full (the plan's memory check keeps the running
 * set within it), prefix caching, {@code long_prefill_token_threshold} (0 by default) and speculative tokens. vLLM
 * requires {@code max_num_batched_tokens >= max_num_seqs}, so every decoding request gets its token.
 */
public final class ChunkedPrefillBatching implements BatchingPolicy {
    private final int maxNumSeqs;
    private final int maxNumBatchedTokens;

    public ChunkedPrefillBatching(int maxNumSeqs, int maxNumBatchedTokens) {
        require(maxNumSeqs >= 1, "maxNumSeqs must be >= 1, got %s", maxNumSeqs);
        require(maxNumBatchedTokens >= maxNumSeqs, "maxNumBatchedTokens must be >= maxNumSeqs %s, got %s", maxNumSeqs,
                maxNumBatchedTokens);
        this.maxNumSeqs = maxNumSeqs;
        this.maxNumBatchedTokens = maxNumBatchedTokens;
    }

    @Override
    public StepPlan next(ExecutorView v) {
        int budget = Math.max(0, maxNumBatchedTokens - v.numActive());     // the decoding requests' tokens, first
        int[] under = v.prefillRemainingTokens();
        int[] chunks = new int[under.length + Math.max(0, Math.min(v.numWaiting(), v.headInputTokens().length))];
        int k = 0;
        for (int i = 0; i < under.length && budget > 0; i++) {             // prefills under way, in admission order
            chunks[k] = Math.min(under[i], budget);
            budget -= chunks[k++];
        }
        int running = v.numActive() + under.length;
        int numNew = 0;
        int[] head = v.headInputTokens();
        while (budget > 0 && running < maxNumSeqs && numNew < Math.min(v.numWaiting(), head.length)) {
            chunks[k] = Math.min(Math.max(1, head[numNew]), budget);
            budget -= chunks[k++];
            numNew++;
            running++;
        }
        if (k > 0) return StepPlan.mixed(numNew, Arrays.copyOf(chunks, k));
        return v.numActive() > 0 ? StepPlan.DECODE : StepPlan.IDLE;
    }
}
