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

    /**
     * @param latencyBoundMs L_B for the bound-length request; {@code Double.POSITIVE_INFINITY} for none
     * @param policies       which of RRA, WAA_C, WAA_M to search
     */
    public Plan plan(double latencyBoundMs, List<Policy> policies) {
        long start = System.nanoTime();
        List<Plan.RunSummary> runs = new ArrayList<>();
        int simulated = 0;
        for (Policy policy : policies) {
            require(policy.isExegpt(), "XScheduler searches RRA, WAA_C and WAA_M, got %s", policy);
            if (policy.isWaa() && sim.scenario().numDevices() < 2) continue;
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
                    throughputTolerance, latencyTolerance);
        }
        Estimate best = ok.get(0).best();
        // The runner-up is the best run of another policy; failing that, the best different schedule.
        Comparator<Plan.RunSummary> rank = Comparator.comparingDouble(s -> s.best() == null ? -1 : s.best().sequencesPerSecond());
        Plan.RunSummary second = runs.stream().filter(s -> !s.policy().equals(ok.get(0).policy())).max(rank)
                .orElseGet(() -> runs.stream().filter(s -> s.best() == null || !s.best().candidate().equals(best.candidate()))
                        .max(rank).orElse(null));
        return new Plan(best, second == null ? null : second.best(), fastest, latencyBoundMs, simulated, ms,
                bindingConstraint(best, latencyBoundMs), runnerUpNote(best, second, latencyBoundMs), runs,
                throughputTolerance, latencyTolerance);
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

    private static int[] indexOf(SearchSpace space, Estimate e) {
        for (int[] idx = new int[space.numDims()]; ; ) {
            if (space.candidate(idx).equals(e.candidate())) return idx;
            int d = 0;
            while (d < idx.length && ++idx[d] == space.size(d)) idx[d++] = 0;
            if (d == idx.length) return null;
        }
    }
}
