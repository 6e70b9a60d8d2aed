package dev.exegpt.scheduler.search;

import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.XSimulator;
import java.util.ArrayList;
import java.util.List;

/**
 * The baselines' best schedules under a bound, found by sweeping their few knobs on the same simulator:
 * STATIC's batch (1, 2 and multiples of 4, as the paper swept FT, §12.4), DISAGGREGATED's prefill devices and
 * batch, vLLM's sequence cap and token budget (as its users tune max_num_seqs and max_num_batched_tokens);
 * CONTINUOUS (Orca as the paper emulated it) has no knob (one prefill per micro-batch per iteration).
 */
public final class Baselines {
    private Baselines() {}

    public static List<Integer> staticBatchSweep() {
        List<Integer> out = new ArrayList<>(List.of(1, 2));
        for (int b = 4; b <= 1024; b += 4) out.add(b);
        return out;
    }

    /**
     * vLLM's max_num_seqs values swept: powers of two from 1 to 1024. Its defaults (vLLM v0.9-v0.11,
     * {@code EngineArgs._set_default_args}) are 256 on GPUs under 70 GiB or A100s and 1024 on larger ones; the small
     * caps are what a user tunes for a tight bound on a slow device (a 2-core CPU serves a few requests at a time).
     */
    public static final int[] VLLM_MAX_NUM_SEQS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

    /**
     * vLLM's max_num_batched_tokens values swept: 64 to 16384. Its defaults (same source): 2048 for the API server
     * and 8192 for the offline LLM class on GPUs under 70 GiB or A100s; 8192 and 16384 on larger ones. The small
     * budgets keep a chunked step short where prompt tokens are slow (a CPU prefills a few thousand tokens a second).
     */
    public static final int[] VLLM_MAX_NUM_BATCHED_TOKENS = {64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};

    /**
     * The vLLM grid for one TP layout: every cap with every budget at least the cap (vLLM requires it); V0 also
     * needs a budget that holds the longest prompt (without chunked prefill vLLM requires max_num_batched_tokens
     * >= max_model_len), so its budgets below that are raised to the longest prompt.
     */
    public static List<Candidate> vllmCandidates(XSimulator x, Policy policy, int tpDegree, int numTpDevices) {
        int n = x.scenario().numDevices();
        int maxPrompt = x.scenario().workload().input().max();
        List<Candidate> out = new ArrayList<>();
        for (int seqs : VLLM_MAX_NUM_SEQS) {
            java.util.Set<Integer> budgets = new java.util.TreeSet<>();
            for (int budget : VLLM_MAX_NUM_BATCHED_TOKENS) {
                int b = policy == Policy.VLLM_V0 ? Math.max(budget, maxPrompt) : budget;
                if (b >= seqs) budgets.add(b);
            }
            for (int b : budgets) out.add(Candidate.vllm(policy, n, seqs, b, tpDegree, numTpDevices));
        }
        return out;
    }

    public static Candidate staticCandidate(XSimulator x, int batch) {
        int n = x.scenario().numDevices();
        int d = tp(x);
        return new Candidate(Policy.STATIC, n, batch, 1, 0, d, d > 1 ? n : 0, 0);
    }

    private static int tp(XSimulator x) {
        int n = x.scenario().numDevices(), d = 1;
        while (d * 2 <= Math.min(n, x.scenario().devicesPerNode()) && n % (d * 2) == 0) d *= 2;
        return d;
    }

    /** The best schedule of a baseline policy that meets the bound, or null. */
    public static Estimate best(XSimulator x, Policy policy, double latencyBoundMs) {
        Estimate best = null;
        for (Candidate c : candidates(x, policy)) {
            Estimate e = x.estimate(c);
            if (e.meets(latencyBoundMs) && (best == null || e.sequencesPerSecond() > best.sequencesPerSecond())) best = e;
        }
        return best;
    }

    public static List<Candidate> candidates(XSimulator x, Policy policy) {
        int n = x.scenario().numDevices();
        List<Candidate> out = new ArrayList<>();
        switch (policy) {
            case STATIC -> staticBatchSweep().forEach(b -> out.add(staticCandidate(x, b)));
            case CONTINUOUS -> out.add(new Candidate(Policy.CONTINUOUS, n, 1, 1, 0, tp(x), tp(x) > 1 ? n : 0, 0));
            case DISAGGREGATED -> {
                for (int ne = 1; ne < n; ne++) {
                    for (int be : SearchSpace.ENCODE_BATCH) out.add(new Candidate(Policy.DISAGGREGATED, n, be, 1, 0, 1, 0, ne));
                }
            }
            case VLLM_V0, VLLM_V1 -> out.addAll(vllmCandidates(x, policy, tp(x), tp(x) > 1 ? n : 0));
            default -> throw new IllegalArgumentException("not a baseline: " + policy);
        }
        return out;
    }
}
