package dev.exegpt.scheduler.avro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.schemas.Schedule;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.Workloads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.exegpt.scheduler.cost.fit.ProfileScaling;

class CodecTest {

    @Test
    void aProfileWrittenAsAvroJsonReadsBackAndInterpolatesToTheModelItCameFrom(@TempDir Path dir) throws Exception {
        RooflineCostModel roofline = new RooflineCostModel(ModelSpecs.byName("opt-13b"), DeviceSpec.A40);
        ProfileTable table = ProfileTable.tabulate(roofline, "a40 (roofline)");
        Path file = dir.resolve("profile.json");
        Files.writeString(file, ProfileCodec.toJson(ProfileCodec.fromTable(table, "analytic")));
        ProfiledCostModel profiled = new ProfiledCostModel(ProfileCodec.read(file), DeviceSpec.A40);
        // On grid points the table is exact; between them the interpolation stays within 10% of the model.
        assertEquals(roofline.layerMs(Phase.DECODE, 64, 256, 2), profiled.layerMs(Phase.DECODE, 64, 256, 2), 1e-9);
        assertEquals(roofline.layerMs(Phase.ENCODE, 8, 512, 4), profiled.layerMs(Phase.ENCODE, 8, 512, 4), 1e-9);
        double a = roofline.layerMs(Phase.DECODE, 48, 300, 1), b = profiled.layerMs(Phase.DECODE, 48, 300, 1);
        assertEquals(a, b, 0.10 * a);
        double c = roofline.layerMs(Phase.ENCODE, 12, 200, 1), d = profiled.layerMs(Phase.ENCODE, 12, 200, 1);
        assertEquals(c, d, 0.10 * c);
    }

    @Test
    void aScaledProfileShouldCostEachPhaseByItsFactorAndKeepTheLinks(@TempDir Path dir) throws Exception {
        RooflineCostModel roofline = new RooflineCostModel(ModelSpecs.byName("t5-11b"), DeviceSpec.A40);
        Path file = dir.resolve("profile.json");
        Files.writeString(file, ProfileCodec.toJson(ProfileCodec.fromTable(ProfileTable.tabulate(roofline, "a40"), "analytic")));
        dev.exegpt.schemas.Profile scaled = ProfileScaling.scaled(ProfileCodec.readProfile(file), 1.25, 1.5, "fitted");
        assertEquals("a40; fitted", scaled.getDeviceName());
        ProfiledCostModel before = new ProfiledCostModel(ProfileCodec.read(file), DeviceSpec.A40);
        ProfiledCostModel after = new ProfiledCostModel(ProfileCodec.toTable(scaled), DeviceSpec.A40);
        assertEquals(1.25 * before.layerMs(Phase.ENCODE, 8, 300, 2), after.layerMs(Phase.ENCODE, 8, 300, 2), 1e-9);
        assertEquals(1.5 * before.layerMs(Phase.DECODE, 48, 300, 1), after.layerMs(Phase.DECODE, 48, 300, 1), 1e-9);
        assertEquals(1.5 * before.headMs(16, 1), after.headMs(16, 1), 1e-9);
        assertEquals(before.stateTransferMs(1 << 20), after.stateTransferMs(1 << 20), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> ProfileScaling.scaled(scaled, 0, 1, "x"));
    }

    @Test
    void aPlanBecomesAScheduleFileAndBackTheSameCandidate(@TempDir Path dir) throws Exception {
        XSimulator x = new XSimulator(new Scenario(new RooflineCostModel(ModelSpecs.byName("opt-13b"), DeviceSpec.A40), 4, 8,
                Workloads.byName("S"), SimOptions.DEFAULTS));
        for (double bound : new double[] {3100, Double.POSITIVE_INFINITY}) {
            Plan p = new XScheduler(x).plan(bound, List.of(Policy.RRA, Policy.WAA_C, Policy.WAA_M));
            Schedule s = ScheduleCodec.fromPlan(p, new ScheduleCodec.Origin("opt-13b", "a40:4", "S", 1));
            Path file = dir.resolve("schedule.json");
            ScheduleCodec.write(s, file);
            Schedule back = ScheduleCodec.read(file);
            assertEquals(s, back);
            assertEquals(x.estimate(ScheduleCodec.toCandidate(back)).sequencesPerSecond(), p.best().sequencesPerSecond(), 1e-9);
            assertEquals(63, back.getBoundOutputTokens());
            assertTrue(back.getNotes().get("runnerUp").startsWith("runner-up"));
        }
    }

    /** A chunked-prefill plan keeps its token budget and sequence cap through the file, and its executors get them. */
    @Test
    void aChunkedPrefillPlanKeepsItsBudgetAndCap(@TempDir Path dir) throws Exception {
        XSimulator x = new XSimulator(new Scenario(new RooflineCostModel(ModelSpecs.byName("opt-13b"), DeviceSpec.A40), 4, 8,
                Workloads.byName("wmt"), SimOptions.DEFAULTS));
        Plan p = new XScheduler(x).plan(Double.POSITIVE_INFINITY, List.of(Policy.VLLM_V1));
        Schedule s = ScheduleCodec.fromPlan(p, new ScheduleCodec.Origin("opt-13b", "a40:4", "wmt", 1));
        Path file = dir.resolve("chunked.json");
        ScheduleCodec.write(s, file);
        Schedule back = ScheduleCodec.read(file);
        assertEquals(p.best().candidate(), ScheduleCodec.toCandidate(back));
        assertEquals(p.best().candidate().maxNumBatchedTokens(), back.getMaxNumBatchedTokens());
        assertEquals(p.best().candidate().encodeBatchSize(), back.getMaxNumSeqs());
        var args = ScheduleCodec.planArgs(back, 1, 30);
        assertEquals(back.getMaxNumSeqs(), args.maxActive());
        assertEquals(back.getMaxNumBatchedTokens(), args.maxNumBatchedTokens());
        assertTrue(back.getNotes().get("family").startsWith("family chunked prefill won"), back.getNotes().toString());
    }

    @Test
    void aFileThatIsNotAScheduleSaysSo(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"hello\": 1}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScheduleCodec.read(file));
        assertTrue(e.getMessage().contains("not an Avro JSON Schedule"), e.getMessage());
    }
}
