package dev.exegpt.scheduler.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.scheduler.cost.Cluster;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.Workloads;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class XSchedulerTest {

    static XSimulator sim(String model, String hardware, String task) {
        Cluster c = Cluster.parse(hardware);
        return new XSimulator(new Scenario(new RooflineCostModel(ModelSpecs.byName(model), c.device()), c.numDevices(),
                c.device().devicesPerNode(), Workloads.byName(task), SimOptions.DEFAULTS));
    }

    /**
     * Branch-and-bound (one run per TP-device count, as XScheduler does) against every point of the same grid:
     * within ε_T of the optimum, with far fewer simulations.
     */
    @ParameterizedTest(name = "{0} {1} {2} L_B={3} ms {4} TP {5}")
    @CsvSource({
            "opt-13b, a40:4, S, 3000, RRA, 1", "opt-13b, a40:4, S, 6000, RRA, 2", "opt-13b, a40:4, S, 12000, RRA, 4",
            "opt-13b, a40:4, S, 3000, WAA_C, 1", "opt-13b, a40:4, S, 6000, WAA_C, 2", "opt-13b, a40:4, S, 12000, WAA_M, 1",
            "opt-13b, a40:4, T, 20000, RRA, 2", "opt-13b, a40:4, T, 20000, WAA_C, 2", "t5-11b, a40:8, C1, 8000, RRA, 4",
            "t5-11b, a40:8, C1, 8000, WAA_C, 4", "opt-13b, a40:4, S, 800, RRA, 4", "gpt3-175b, a100:16, C2, 30801, RRA, 8",
            "gpt3-341b, a40:48, C1, 29038, RRA, 8", "gpt3-341b, a40:48, G, 75408, RRA, 8", "gpt3-39b, a40:16, T, 39142, WAA_C, 2"})
    void branchAndBoundMatchesExhaustiveSearch(String model, String hw, String task, double boundMs, Policy policy, int tp) {
        XSimulator x = sim(model, hw, task);
        XScheduler xs = new XScheduler(x);
        Estimate exhaustive = null, bnb = null;
        int allPoints = 0, bnbPoints = 0;
        for (int count : xs.space(policy, tp).tpCounts()) {
            SearchSpace space = xs.space(policy, tp, count);
            BranchAndBound.Result all = BranchAndBound.exhaustive(space, idx -> x.estimate(space.candidate(idx)), boundMs);
            BranchAndBound.Result r = new BranchAndBound(space, idx -> x.estimate(space.candidate(idx)), boundMs,
                    XScheduler.DEFAULT_TOLERANCE, XScheduler.DEFAULT_TOLERANCE).run();
            allPoints += all.numSimulated();
            bnbPoints += r.numSimulated();
            exhaustive = better(exhaustive, all.best());
            bnb = better(bnb, r.best());
        }
        System.out.printf("%s %s %s L_B=%.0f %s TP%d: exhaustive %s (%d points), B&B %s (%d points)%n", model, hw, task,
                boundMs, policy, tp, exhaustive == null ? "infeasible" : "%.2f seq/s".formatted(exhaustive.sequencesPerSecond()),
                allPoints, bnb == null ? "infeasible" : "%.2f seq/s".formatted(bnb.sequencesPerSecond()), bnbPoints);
        assertEquals(exhaustive == null, bnb == null);
        if (exhaustive != null) {
            assertTrue(bnb.meets(boundMs));
            assertTrue(bnb.sequencesPerSecond() >= exhaustive.sequencesPerSecond() * (1 - XScheduler.DEFAULT_TOLERANCE),
                    "B&B " + bnb.candidate().describe() + " vs optimum " + exhaustive.candidate().describe());
        }
        assertTrue(bnbPoints < allPoints / 3, "B&B simulated " + bnbPoints + " of " + allPoints);
    }

    private static Estimate better(Estimate a, Estimate b) {
        return a == null || b != null && b.sequencesPerSecond() > a.sequencesPerSecond() ? b : a;
    }

    @ParameterizedTest(name = "{0} {1} {2} L_B={3} ms")
    @CsvSource({"opt-13b, a40:4, S, 3100", "opt-13b, a40:4, S, 11500", "opt-13b, a40:4, S, Infinity",
            "gpt3-39b, a40:16, T, 30000", "gpt3-175b, a100:16, G, 60000", "gpt3-341b, a40:48, C2, 200000"})
    void planSearchesEveryPolicyAndTpDegreeAndMeetsTheBound(String model, String hw, String task, double boundMs) {
        XSimulator x = sim(model, hw, task);
        x.estimate(new XScheduler(x).space(Policy.RRA, 1).candidate(new int[] {0, 0}));
        Plan p = new XScheduler(x).plan(boundMs, List.of(Policy.RRA, Policy.WAA_C, Policy.WAA_M));
        System.out.printf("%s %s %s L_B=%.0f: %s -> %s; %d simulated in %.0f ms; binding %s; %s%n", model, hw, task, boundMs,
                p.feasible() ? p.best().candidate().describe() : "infeasible",
                p.feasible() ? "%.2f seq/s at %.0f ms".formatted(p.best().sequencesPerSecond(), p.best().latencyMs()) : "",
                p.numSimulated(), p.searchTimeMs(), p.bindingConstraint(), p.runnerUpNote());
        assertTrue(p.feasible());
        assertTrue(p.best().latencyMs() < boundMs);
        assertNotNull(p.runnerUpNote());
    }

    @ParameterizedTest(name = "{0} ms")
    @CsvSource({"100", "1000"})
    void anUnreachableBoundIsReportedWithTheTightestLatency(double boundMs) {
        XSimulator x = sim("gpt3-39b", "a40:16", "C1");
        Plan p = new XScheduler(x).plan(boundMs, List.of(Policy.RRA, Policy.WAA_C, Policy.WAA_M));
        assertFalse(p.feasible());
        assertNull(p.best());
        assertNotNull(p.fastest());
        assertTrue(p.fastest().latencyMs() > boundMs);
        assertTrue(p.runnerUpNote().contains("tightest latency"), p.runnerUpNote());
        // Nothing in any run beat the reported tightest latency.
        for (Plan.RunSummary r : p.runs()) {
            if (r.fastest() != null && r.fastest().feasible()) assertTrue(r.fastest().latencyMs() >= p.fastest().latencyMs());
        }
    }

    /**
     * The extended search space holds the chunked-prefill family (for T5, which V1 does not serve, V0's prompt
     * batching): its plan is never below the tuned vLLM peer of the model (nor below the paper's space), and it says
     * which family won; the paper's space never returns a vLLM schedule.
     */
    @ParameterizedTest(name = "{0} {1} {2} L_B={3} ms")
    @CsvSource({"opt-13b, a40:4, wmt, inf", "opt-13b, a40:4, S, 12000", "opt-13b, a40:4, cnn_dailymail, inf",
            "t5-11b, a40:8, S, inf"})
    void theExtendedPlannerIsNeverBelowTheChunkedPrefillPeer(String model, String hardware, String task, String bound) {
        XSimulator x = sim(model, hardware, task);
        double b = bound.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound);
        Plan extended = new XScheduler(x).plan(b, XScheduler.ALL_POLICIES);
        Plan paper = new XScheduler(x).plan(b, XScheduler.PAPER_POLICIES);
        boolean encoderDecoder = x.scenario().model().encoderDecoder();
        Policy vllm = encoderDecoder ? Policy.VLLM_V0 : Policy.VLLM_V1;
        assertEquals(vllm, new XScheduler(x).vllmFamily());
        Estimate peer = Baselines.best(x, vllm, b);
        System.out.printf("%s %s %s: %s%n", model, task, bound, extended.familyNote());
        assertTrue(extended.feasible());
        assertTrue(extended.best().sequencesPerSecond() >= paper.best().sequencesPerSecond() - 1e-9);
        assertTrue(peer != null, "the model's vLLM has a schedule in every scenario here");
        assertTrue(extended.best().sequencesPerSecond() >= peer.sequencesPerSecond() - 1e-9);
        assertTrue(extended.familyNote().startsWith("family " + XScheduler.family(extended.best().candidate().policy()) + " won"));
        assertTrue(paper.runs().stream().noneMatch(r -> r.policy().startsWith("vllm-")));
        assertTrue(extended.familyNote().contains(XScheduler.family(vllm)), extended.familyNote());
    }
}
