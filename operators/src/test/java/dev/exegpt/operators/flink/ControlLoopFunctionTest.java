package dev.exegpt.operators.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.control.ControlLoop;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.cost.fit.MeasuredStep;
import dev.exegpt.scheduler.cost.fit.StepFit;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Pipeline;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.ExecutorSteps;
import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.StepPhase;
import dev.exegpt.schemas.StepRecord;

/**
 * The control loop's Flink wrapper on Flink's operator harness: steps records in, a timer every second, one new
 * schedule version out (reason and fit in its notes) when the steps say the engine runs at 1.5x the profile's price;
 * a steps record that does not decode is skipped, not thrown.
 */
class ControlLoopFunctionTest {

    private static final Profile PROFILE = ProfileCodec.fromTable(
            ProfileTable.tabulate(new RooflineCostModel(ModelSpecs.byName("t5-11b"), DeviceSpec.A100_80GB), "a100"), "analytic");

    @Test
    void stepsAtOneAndAHalfTimesTheirPriceMakeOneNewVersionWithItsReason(@TempDir Path dir) throws Exception {
        Path profile = dir.resolve("profile.json");
        Files.writeString(profile, ProfileCodec.toJson(PROFILE));
        Scenario scenario = new Scenario(new ProfiledCostModel(ProfileCodec.toTable(PROFILE), DeviceSpec.A100_80GB), 1, 8,
                Workloads.byName("S"), SimOptions.DEFAULTS);
        XSimulator sim = new XSimulator(scenario);
        XScheduler planner = new XScheduler(sim);
        double slo = 2 * planner.plan(Double.POSITIVE_INFINITY, List.of(Policy.RRA)).fastest().latencyMs();
        Schedule initial = ScheduleCodec.fromPlan(planner.plan(slo, List.of(Policy.RRA)),
                new ScheduleCodec.Origin("t5-11b", "a100:1", "S", 0));
        ControlLoopFunction f = new ControlLoopFunction(new ControlLoopFunction.Spec(profile.toString(), slo,
                new ControlLoop.Settings(1_000, 5_000, 50, 400, 0.2, 0.15, 30_000, 200, 10, 0.05)), initial);
        try (KeyedTwoInputStreamOperatorTestHarness<Integer, RawRecord, dev.exegpt.schemas.InferenceResult, Schedule> h =
                     new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(f), r -> 0, r -> 0, Types.INT)) {
            h.open();
            h.setProcessingTime(0);
            h.processElement1(new StreamRecord<>(new RawRecord(null, new byte[] {1, 2, 3}, "steps", 0, 0, 0)));   // skipped
            Pipeline p = sim.layout(ScheduleCodec.toCandidate(initial)).encoder();
            AvroBinary<ExecutorSteps> codec = new AvroBinary<>(ExecutorSteps.getClassSchema());
            // The job's first step at 0; what it measures after the loop's warm-up is what it fits and acts on.
            h.processElement1(new StreamRecord<>(new RawRecord(null, codec.encode(new ExecutorSteps("rra-0", "FULL",
                    initial.getScheduleId(), initial.getVersion(), "RRA[1]", 1, List.of(new StepRecord(StepPhase.DECODE, 0.0, 1.0,
                    List.of(300), 1600L)))), "steps", 0, 0, 0)));
            double t = ControlLoop.WARM_UP_MS;
            for (int batch = 0; batch < 10; batch++) {
                List<StepRecord> steps = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    boolean encode = i % 4 == 0;
                    List<Integer> lengths = encode ? List.of(300, 500) : List.of(300, 500, 200, 400);
                    int[] l = lengths.stream().mapToInt(Integer::intValue).toArray();
                    double ms = 1.5 * StepFit.predictedMs(new MeasuredStep(encode ? Phase.ENCODE : Phase.DECODE, 0, 0, l,
                            encode ? 800 : 1600), p);
                    steps.add(new StepRecord(encode ? StepPhase.ENCODE : StepPhase.DECODE, t, t + ms, lengths, encode ? 800L : 1600L));
                    t += ms;
                }
                ExecutorSteps record = new ExecutorSteps("rra-0", "FULL", initial.getScheduleId(), initial.getVersion(), "RRA[1]", 1, steps);
                h.processElement1(new StreamRecord<>(new RawRecord(null, codec.encode(record), "steps", 0, batch + 1, 0)));
            }
            long now = (long) t;
            h.setProcessingTime(now + 1_000);
            h.setProcessingTime(now + 2_000);
            List<Schedule> out = new ArrayList<>();
            h.extractOutputValues().forEach(out::add);
            assertEquals(1, out.size(), "one decision: " + out);
            Schedule v2 = out.get(0);
            assertEquals(initial.getVersion() + 1, v2.getVersion());
            assertEquals(initial.getScheduleId(), v2.getScheduleId());
            assertTrue(v2.getNotes().get("control.reason").contains("over the SLO"), v2.getNotes().toString());
            assertTrue(v2.getNotes().get("control.fit").contains("decode x1.50"), v2.getNotes().toString());
            assertTrue(v2.getPredictedLatencyMs() <= slo);
            // Within the dwell time nothing more, and the timer keeps ticking.
            h.setProcessingTime(now + 3_000);
            assertEquals(1, h.extractOutputValues().size());
            assertEquals(1, h.numProcessingTimeTimers());
        }
    }
}
