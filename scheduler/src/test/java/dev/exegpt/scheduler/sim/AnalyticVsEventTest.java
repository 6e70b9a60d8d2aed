package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.plan.Policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.search.Baselines;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.scheduler.workload.Workloads;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The analytic XSimulator against the discrete-event run of the same schedule, request by request: the planner's
 * pick per policy (and the baselines) on OPT-13B, 4 x A40, must agree within 10% in throughput and 15% in the
 * latency of the bound-length request, encoder-bound WAA (C1: B_E = 128 > B_D) included.
 */
class AnalyticVsEventTest {

    @ParameterizedTest(name = "task {0}, {1}")
    @CsvSource({"S, RRA", "S, WAA_C", "S, WAA_M", "T, RRA", "T, WAA_C", "C1, WAA_C", "C1, RRA", "S, STATIC", "T, CONTINUOUS",
            "T, DISAGGREGATED", "S, DISAGGREGATED", "S, VLLM_V0", "T, VLLM_V0", "C1, VLLM_V0", "S, VLLM_V1", "T, VLLM_V1",
            "C1, VLLM_V1", "wmt, VLLM_V1", "cnn_dailymail, VLLM_V1", "conversation, VLLM_V1", "wmt, VLLM_V0",
            "S, VLLM_V1@planner", "wmt, VLLM_V1@planner", "cnn_dailymail, VLLM_V1@planner", "S, VLLM_V1@5900",
            "C1, VLLM_V1@7693", "T, VLLM_V1@11694"})
    void plannerAndDiscreteEventRunAgree(String task, String policyName) {
        Policy policy = Policy.parse(policyName.split("@")[0]);
        String searchedBy = policyName.contains("@") ? policyName.split("@")[1] : "";
        XSimulator x = new XSimulator(new Scenario(new RooflineCostModel(ModelSpecs.byName("opt-13b"), DeviceSpec.A40), 4, 8,
                Workloads.byName(task), SimOptions.DEFAULTS));
        Estimate e;
        if (policy.isExegpt() || !searchedBy.isEmpty()) {   // the planner's chunked-prefill family: any TP layout, a bound
            double bound = searchedBy.matches("\\d+") ? Double.parseDouble(searchedBy) : Double.POSITIVE_INFINITY;
            Plan p = new XScheduler(x).plan(bound, List.of(policy));
            e = p.best();
        } else {
            e = Baselines.best(x, policy, Double.POSITIVE_INFINITY);
        }
        SimResult r = new EventSimulator(x).run(e.candidate(), 8000, 11, new ArrivalProcess.Bulk());
        System.out.printf("task %s %s: planned %.2f seq/s, %.0f ms; event %.2f seq/s, %.0f ms%n", task, e.candidate().describe(),
                e.sequencesPerSecond(), e.latencyMs(), r.sequencesPerSecond(), r.boundLengthLatencyMs());
        assertEquals(e.sequencesPerSecond(), r.sequencesPerSecond(), 0.10 * e.sequencesPerSecond());
        if (policy != Policy.STATIC) {   // STATIC's planned latency is the maximum length's; the event run has few of those
            assertEquals(e.latencyMs(), r.boundLengthLatencyMs(), 0.15 * e.latencyMs());
        }
    }
}
