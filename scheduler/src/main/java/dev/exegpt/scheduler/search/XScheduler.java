package dev.exegpt.scheduler.search;

import static dev.exegpt.scheduler.Require.require;

import dev.exegpt.scheduler.sim.BatchComposition;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.XSimulator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * XScheduler (PAPER.md §5.1, §9): branch-and-bound per policy and per TP degree, calling XSimulator in-process
 * (STYLE.md C11); the best feasible result wins and the runner-up is explained.
 */
public final class XScheduler {
    /** ε_T and ε_L as fractions of the incumbent throughput and of the bound; Table 5's middle value (PAPER.md §9.6). */
    public static final double DEFAULT_TOLERANCE = 0.05;

    private final XSimulator sim;
    private final double throughputTolerance;
    private final double latencyTolerance;

    public XScheduler(XSimulator sim, double throughputTolerance, double latencyTolerance) {
        require(throughputTolerance >= 0 && throughputTolerance < 1, "throughputTolerance must be in [0, 1), got %s", throughputTolerance);
        require(latencyTolerance >= 0 && latencyTolerance < 1, "latencyTolerance must be in [0, 1), got %s", latencyTolerance);
        this.sim = sim;
        this.throughputTolerance = throughputTolerance;
        this.latencyTolerance = latencyTolerance;
    }

    public XScheduler(XSimulator sim) {
        this(sim, DEFAULT_TOLERANCE, DEFAULT_TOLERANCE);
    }

    /** The full space of a policy and TP degree, the TP-device count as third dimension. */
    public SearchSpace space(Policy policy, int tpDegree) {
        return SearchSpace.of(policy, sim.scenario().numDevices(), tpDegree, decodePerEncode());
    }

    /** The space one branch-and-bound run searches: a fixed number of TP devices. */
    public SearchSpace space(Policy policy, int tpDegree, int numTpDevices) {
        return SearchSpace.of(policy, sim.scenario().numDevices(), tpDegree, decodePerEncode(), numTpDevices);
    }

    private double decodePerEncode() {
        return BatchComposition.of(sim.scenario().workload().output(), 1, sim.scenario().options().batchMode())
                .decodePerEncode();
    }

    private static Estimate faster(Estimate a, Estimate b) {
        if (a == null) return b;
        if (b == null) return a;
        if (a.feasible() != b.feasible()) return a.feasible() ? a : b;
        return b.latencyMs() < a.latencyMs() ? b : a;
    }

    /** TP degrees worth a run: 1 and the powers of two up to the devices of one node and of the group. */
    public List<Integer> tpDegrees() {
        List<Integer> out = new ArrayList<>();
        int n = sim.scenario().numDevices();
        for (int d = 1; d <= Math.min(n, sim.scenario().devicesPerNode()); d *= 2) out.add(d);
        return out;
    }

    /** The paper's search space (PAPER.md §5.1): RRA and both WAA sizings. */
    public static final List<Policy> PAPER_POLICIES = List.of(Policy.RRA, Policy.WAA_C, Policy.WAA_M);

    /**
     * The extended space: the paper's, plus the chunked-prefill family (vLLM V1's mechanism: a token budget and a
     * sequence cap, over the same TP layouts), so that the planned schedule is never worse than that peer tuned. V1
     * serves decoder-only models; for an encoder-decoder one the family searched in its place is vLLM V0's budgeted
     * prompt batching (the peer its users run, {@link #vllmFamily}), over the same grid and layouts.
     */
    public static final List<Policy> ALL_POLICIES = List.of(Policy.RRA, Policy.WAA_C, Policy.WAA_M, Policy.VLLM_V1);

    /** The family a searched policy belongs to, as the plan reports the winner: RRA, WAA, or chunked prefill. */
    public static String family(Policy policy) {
        return switch (policy) {
            case RRA -> "RRA";
            case WAA_C, WAA_M -> "WAA";
            case VLLM_V1 -> "chunked prefill";
            case VLLM_V0 -> "prompt batching";
            case STATIC, CONTINUOUS, DISAGGREGATED -> policy.cliName();
        };
    }

    /** The vLLM mechanism the extended space searches for this scenario's model: V1, or V0 for an encoder-decoder model. */
    public Policy vllmFamily() {
        return sim.scenario().model().encoderDecoder() ? Policy.VLLM_V0 : Policy.VLLM_V1;
    }

    /**
     * @param latencyBoundMs L_B for the bound-length request; {@code Double.POSITIVE_INFINITY} for none
     * @param policies       which of RRA, WAA_C, WAA_M and VLLM_V1 (the chunked-prefill family) to search
     */
    public Plan plan(double latencyBoundMs, List<Policy> policies) {
        long start = System.nanoTime();
        List<Plan.RunSummary> runs = new ArrayList<>();
        int simulated = 0;
        for (Policy policy : policies) {
            require(policy.isExegpt() || policy == Policy.VLLM_V1, "XScheduler searches RRA, WAA_C, WAA_M and VLLM_V1, got %s",
                    policy);
            if (policy.isWaa() && sim.scenario().numDevices() < 2) continue;
            if (policy == Policy.VLLM_V1) {
                for (int d : tpDegrees()) {
                    Plan.RunSummary run = chunkedPrefillRun(d, latencyBoundMs);
                    simulated += run.numSimulated();
                    runs.add(run);
                }
                continue;
            }
            for (int d : tpDegrees()) {
                // One branch-and-bound per TP-device count: see SearchSpace on why the count is not a dimension.
                Estimate best = null, fastest = null;
                int count = 0;
                for (int numTp : space(policy, d).tpCounts()) {
                    SearchSpace space = space(policy, d, numTp);
                    BranchAndBound.Result r = new BranchAndBound(space, idx -> sim.estimate(space.candidate(idx)),
                            latencyBoundMs, throughputTolerance, latencyTolerance).run();
                    count += r.numSimulated();
                    if (r.best() != null && (best == null || r.best().sequencesPerSecond() > best.sequencesPerSecond())) {
                        best = r.best();
                    }
                    fastest = faster(fastest, r.fastest());
                }
                simulated += count;
                runs.add(new Plan.RunSummary(policy.cliName(), d, best, fastest, count));
            }
        }
        Comparator<Plan.RunSummary> byThroughput = Comparator.comparingDouble(s -> s.best().sequencesPerSecond());
        List<Plan.RunSummary> ok = runs.stream().filter(s -> s.best() != null).sorted(byThroughput.reversed()).toList();
        Estimate fastest = runs.stream().map(Plan.RunSummary::fastest).filter(e -> e != null && e.feasible())
                .min(Comparator.comparingDouble(Estimate::latencyMs)).orElse(null);
        double ms = (System.nanoTime() - start) / 1e6;
        if (ok.isEmpty()) {
            String memory = runs.stream().map(Plan.RunSummary::fastest).filter(e -> e != null && !e.feasible())
                    .min(Comparator.comparingLong(Estimate::peakMemoryBytes)).map(Estimate::infeasibleReason).orElse("");
            String why = fastest == null ? "no schedule fits (smallest need: %s)".formatted(memory)
                    : "infeasible: the tightest latency any schedule reaches is %.0f ms (%s) > bound %.0f ms"
                            .formatted(fastest.latencyMs(), fastest.candidate().describe(), latencyBoundMs);
            return new Plan(null, null, fastest, latencyBoundMs, simulated, ms, "latency", why, runs,
                    throughputTolerance, latencyTolerance, "no family meets the bound");
        }
        Estimate best = ok.get(0).best();
        // The runner-up is the best run of another policy; failing that, the best different schedule.
        Comparator<Plan.RunSummary> rank = Comparator.comparingDouble(s -> s.best() == null ? -1 : s.best().sequencesPerSecond());
        Plan.RunSummary second = runs.stream().filter(s -> !s.policy().equals(ok.get(0).policy())).max(rank)
                .orElseGet(() -> runs.stream().filter(s -> s.best() == null || !s.best().candidate().equals(best.candidate()))
                        .max(rank).orElse(null));
        return new Plan(best, second == null ? null : second.best(), fastest, latencyBoundMs, simulated, ms,
                bindingConstraint(best, latencyBoundMs), runnerUpNote(best, second, latencyBoundMs), runs,
                throughputTolerance, latencyTolerance, familyNote(best, runs, latencyBoundMs));
    }

    /**
     * The chunked-prefill family (prompt batching for an encoder-decoder model) at one TP degree: every (max_num_seqs,
     * max_num_batched_tokens) of the baseline's grid on every count of TP devices, simulated exhaustively (89 points a layout; the budget is not monotone in
     * latency, so branch-and-bound's pruning would not be sound).
     */
    private Plan.RunSummary chunkedPrefillRun(int tpDegree, double latencyBoundMs) {
        Estimate best = null, fastest = null;
        int count = 0;
        for (int numTp : space(Policy.RRA, tpDegree).tpCounts()) {
            if (tpDegree > 1 && numTp == 0) continue;                     // the same layout as TP degree 1
            for (var c : Baselines.vllmCandidates(sim, vllmFamily(), tpDegree, numTp)) {
                Estimate e = sim.estimate(c);
                count++;
                fastest = faster(fastest, e);
                if (e.meets(latencyBoundMs) && (best == null || e.sequencesPerSecond() > best.sequencesPerSecond())) best = e;
            }
        }
        return new Plan.RunSummary(vllmFamily().cliName(), tpDegree, best, fastest, count);
    }

    /** Which family won, and by how much over the best schedule of each other family searched. */
    private static String familyNote(Estimate best, List<Plan.RunSummary> runs, double boundMs) {
        String won = family(best.candidate().policy());
        java.util.Map<String, Estimate> bestOf = new java.util.LinkedHashMap<>();
        java.util.Map<String, Estimate> fastestOf = new java.util.LinkedHashMap<>();
        for (Plan.RunSummary r : runs) {
            String f = family(Policy.parse(r.policy()));
            if (r.best() != null && (bestOf.get(f) == null || r.best().sequencesPerSecond() > bestOf.get(f).sequencesPerSecond())) {
                bestOf.put(f, r.best());
            }
            if (r.fastest() != null) fastestOf.merge(f, r.fastest(), XScheduler::faster);
            bestOf.putIfAbsent(f, null);
        }
        StringBuilder sb = new StringBuilder("family %s won (%.2f seq/s)".formatted(won, best.sequencesPerSecond()));
        for (var e : bestOf.entrySet()) {
            if (e.getKey().equals(won)) continue;
            Estimate o = e.getValue();
            if (o == null) {
                Estimate f = fastestOf.get(e.getKey());
                sb.append("; %s meets no bound here (%s)".formatted(e.getKey(), f == null ? "nothing simulated"
                        : !f.feasible() ? f.infeasibleReason()
                        : "its fastest schedule takes %.0f ms, over the %.0f ms bound".formatted(f.latencyMs(), boundMs)));
            } else {
                sb.append("; %.2fx the best of %s (%s, %.2f seq/s)".formatted(best.sequencesPerSecond() / o.sequencesPerSecond(),
                        e.getKey(), o.candidate().describe(), o.sequencesPerSecond()));
            }
        }
        return sb.toString();
    }

    private String runnerUpNote(Estimate best, Plan.RunSummary second, double boundMs) {
        if (second == null) return "no other policy or TP degree was searched";
        String name = "%s (TP degree %d)".formatted(second.policy().toUpperCase(), second.tpDegree());
        if (second.best() == null) {
            Estimate f = second.fastest();
            String reason = f == null ? "nothing simulated"
                    : !f.feasible() ? f.infeasibleReason()
                    : "its fastest schedule takes %.0f ms, over the %.0f ms bound".formatted(f.latencyMs(), boundMs);
            return "runner-up %s lost: no schedule meets the constraints (%s)".formatted(name, reason);
        }
        Estimate r = second.best();
        return "runner-up %s: %s reaches %.2f seq/s at %.0f ms, %.1f%% below the winner's %.2f seq/s"
                .formatted(name, r.candidate().describe(), r.sequencesPerSecond(), r.latencyMs(),
                        100 * (1 - r.sequencesPerSecond() / best.sequencesPerSecond()), best.sequencesPerSecond());
    }

    /** Steps each variable of the winner one grid point "up" and says what stops it. */
    private String bindingConstraint(Estimate best, double boundMs) {
        if (best.candidate().policy().isVllm()) return vllmBindingConstraint(best, boundMs);
        SearchSpace space = space(best.candidate().policy(), best.candidate().tpDegree());
        int[] idx = indexOf(space, best);
        if (idx == null) return "none";
        boolean latency = false, memory = false, edge = true;
        for (int d = 0; d < space.numDims(); d++) {
            if (idx[d] + 1 >= space.size(d)) continue;
            edge = false;
            int[] up = idx.clone();
            up[d]++;
            Estimate e = sim.estimate(space.candidate(up));
            if (!e.feasible() && e.infeasibleReason().startsWith("memory")) memory = true;
            else if (e.feasible() && e.latencyMs() >= boundMs) latency = true;
        }
        if (latency) return "latency";
        if (memory) return "memory";
        return edge ? "search-space edge" : "none (throughput peaks inside the space)";
    }

    /** The chunked-prefill family's knobs stepped one grid point up: the next sequence cap, the next budget. */
    private String vllmBindingConstraint(Estimate best, double boundMs) {
        var c = best.candidate();
        boolean latency = false, memory = false, edge = true;
        int[][] grids = {Baselines.VLLM_MAX_NUM_SEQS, Baselines.VLLM_MAX_NUM_BATCHED_TOKENS};
        int[] values = {c.encodeBatchSize(), c.maxNumBatchedTokens()};
        for (int d = 0; d < 2; d++) {
            int next = -1;
            for (int v : grids[d]) if (v > values[d]) { next = v; break; }
            if (next < 0) continue;
            edge = false;
            int seqs = d == 0 ? next : values[0], budget = d == 1 ? next : values[1];
            if (budget < seqs) continue;
            Estimate e = sim.estimate(dev.exegpt.scheduler.plan.Candidate.vllm(c.policy(), c.numDevices(), seqs, budget,
                    c.tpDegree(), c.numTpDevices()));
            if (!e.feasible() && e.infeasibleReason().startsWith("memory")) memory = true;
            else if (e.feasible() && e.latencyMs() >= boundMs) latency = true;
        }
        if (latency) return "latency";
        if (memory) return "memory";
        return edge ? "search-space edge" : "none (throughput peaks inside the space)";
    }

    private static int[] indexOf(SearchSpace space, Estimate e) {
        for (int[] idx = new int[space.numDims()]; ; ) {
            if (space.candidate(idx).equals(e.candidate())) return idx;
            int d = 0;
            while (d < idx.length && ++idx[d] == space.size(d)) idx[d++] = 0;
            if (d == idx.length) return null;
        }
    }
}
