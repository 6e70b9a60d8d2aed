package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/**
 * A batch file is planned from its own requests: the workload is their prompt lengths and output caps, the schedule
 * meets the bound given (or has the highest throughput without one) within the engine's memory, and the best STATIC
 * batch for the same bound is named beside it.
 */
class BatchPlannerTest {

    @Test
    void theFileIsPlannedFromItsOwnLengthsWithinTheBoundAndTheEnginesMemory(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("model");
        CheckpointWriter.writeRandom(model, ModelSize.TINY.config(Architecture.T5), 5);
        Path profile = dir.resolve("profile.json");
        Files.writeString(profile, ProfileCodec.toJson(ProfileCodec.fromTable(
                ProfileTable.tabulate(new RooflineCostModel(ModelSpecs.byName("t5-11b"), DeviceSpec.A100_80GB), "a100"), "analytic")));
        Path input = dir.resolve("docs.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            StringBuilder ids = new StringBuilder();
            for (int t = 0; t < 100 + i % 300; t++) ids.append(t == 0 ? "" : ",").append(5 + t % 90);
            lines.add("{\"requestId\": \"d" + i + "\", \"task\": \"summarization\", \"promptTokenIds\": [" + ids
                    + "], \"maxNewTokens\": " + (20 + i % 60) + "}");
        }
        lines.add("{ not json");
        Files.write(input, lines);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);

        BatchPlanner.Planned fastest = BatchPlanner.plan(input, model, dir.resolve("state"), profile, Double.POSITIVE_INFINITY,
                64L << 30, List.of(Policy.RRA), out);
        assertEquals(300, fastest.numRequests());
        assertEquals(1, fastest.numUnreadable());
        assertEquals(399, fastest.workload().input().max());
        assertEquals(79, fastest.workload().maxOutputTokens());
        Schedule s = ScheduleCodec.read(fastest.scheduleFile());
        assertEquals(SchedulePolicy.RRA, s.getPolicy());
        assertEquals("docs.jsonl", s.getTask());

        double bound = 0.5 * s.getPredictedLatencyMs();
        BatchPlanner.Planned bounded = BatchPlanner.plan(input, model, dir.resolve("state"), profile, bound, 64L << 30,
                List.of(Policy.RRA), out);
        assertTrue(bounded.schedule().getPredictedLatencyMs() <= bound, "meets the bound");
        assertTrue(bounded.schedule().getPredictedSequencesPerSecond() <= s.getPredictedSequencesPerSecond() + 1e-9);
        assertNotNull(bounded.staticBaseline());
        assertTrue(bounded.schedule().getPredictedSequencesPerSecond() >= bounded.staticBaseline().sequencesPerSecond() - 1e-9);

        // A small state capacity bounds the batch: the plan fits the engine, not the profiled device.
        BatchPlanner.Planned small = BatchPlanner.plan(input, model, dir.resolve("state"), profile, Double.POSITIVE_INFINITY,
                4L << 30, List.of(Policy.RRA), out);
        assertTrue(small.schedule().getDecodeBatchSize() < s.getDecodeBatchSize(), small.schedule().getDecodeBatchSize() + " vs "
                + s.getDecodeBatchSize());
        String printed = log.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("batch plan: 300 requests") && printed.contains("1 unreadable line(s)"), printed);
        assertTrue(printed.contains("best STATIC batch for the same bound"), printed);
    }
}
