package dev.exegpt.job.cli;

import dev.exegpt.job.pipeline.JsonLines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.exegpt.job.report.ReportFixtures;
import dev.exegpt.schemas.InferenceResult;

/** {@code exegpt audit --input}: every part of the audit is printed, and {@code --html} writes the report beside it. */
class AuditCommandTest {

    @Test
    void shouldPrintEveryPartOfTheAuditAndWriteTheHtmlReport(@TempDir Path dir) throws Exception {
        List<InferenceResult> results = new ArrayList<>(ReportFixtures.run("rra", 2, 4, 40, 1_000, 1));
        results.addAll(ReportFixtures.run("static", 1, 8, 40, 1_000, 2));
        JsonLines json = new JsonLines(InferenceResult.getClassSchema());
        List<String> lines = new ArrayList<>();
        for (InferenceResult r : results) {
            lines.add(json.encode(r));
        }
        Path input = Files.write(dir.resolve("results.jsonl"), lines);
        Path html = dir.resolve("audit.html");

        StdStreams audit = StdStreams.run("audit", "--input", input.toString(), "--slowest", "3", "--html", html.toString());

        assertEquals(0, audit.exitCode(), audit.err());
        String out = audit.out();
        for (String part : List.of("audit: 80 requests", "from arrival: latency p50", "SLO attainment 100.0% (80 of 80)",
                "<- verdict", "from encode start: latency p50", "by task", "by schedule", "by hour (UTC)",
                "SLO attainment from arrival (verdict)", "SLO attainment from encode start ", "estimator error",
                "slowest 3 requests", "rra v1", "static v1", "report: ")) {
            assertTrue(out.contains(part), "'" + part + "' in:\n" + out);
        }
        String page = Files.readString(html);
        for (String part : List.of("data-chart=\"cdf\"", "data-chart=\"timeline-0\"", "data-chart=\"timeline-1\"",
                "By hour of completion (UTC)", "The 3 slowest requests", "estimator error", "Verdict: SLO attainment from arrival")) {
            assertTrue(page.contains(part), part);
        }
    }

    @Test
    void theControlLoopsScheduleVersionsShouldBeListedWithTheirReasonsAndMarkedInTheReport(@TempDir Path dir) throws Exception {
        List<InferenceResult> results = ReportFixtures.run("rra", 1, 4, 40, 1_000, 1);
        Path input = dir.resolve("results.jsonl");
        JsonLines.write(input, InferenceResult.getClassSchema(), results);
        long origin = results.stream().mapToLong(r -> r.getLatency().getArrivedEpochMs()).min().orElseThrow();
        dev.exegpt.schemas.Schedule v2 = dev.exegpt.schemas.Schedule.newBuilder().setScheduleId("rra").setVersion(2)
                .setCreatedEpochMs(origin + 500).setPolicy(dev.exegpt.schemas.SchedulePolicy.RRA).setEncodeBatchSize(2)
                .setDecodeIterationsPerEncode(9).setDecodeBatchSize(18).setTask("S")
                .setNotes(java.util.Map.of("control.reason", "the output lengths drifted", "control.fit", "encode x1.00, decode x1.20",
                        "control.planMs", "31.0")).build();
        Path schedules = dir.resolve("schedules.jsonl");
        JsonLines.write(schedules, dev.exegpt.schemas.Schedule.getClassSchema(), List.of(v2));
        Path html = dir.resolve("audit.html");

        StdStreams audit = StdStreams.run("audit", "--input", input.toString(), "--schedules", schedules.toString(), "--html",
                html.toString());

        assertEquals(0, audit.exitCode(), audit.err());
        assertTrue(audit.out().contains("the control loop's schedule versions, with their reasons:\n  v2: RRA B_E=2 N_D=9 (decode batch"
                + " 18): the output lengths drifted (fit encode x1.00, decode x1.20; planned in 31 ms)"), audit.out());
        assertTrue(Files.readString(html).contains("<g class=\"change\"><title>v2: RRA B_E=2 N_D=9"), "marked on the timeline");
        Path broken = Files.writeString(dir.resolve("broken.jsonl"), "{\"scheduleId\": 1}\n");
        StdStreams bad = StdStreams.run("audit", "--input", input.toString(), "--schedules", broken.toString());
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("--schedules " + broken + ":1: not a Schedule in Avro JSON"), bad.err());
    }

    @Test
    void bulkArrivalsShouldMakeTheEncodeStartClockTheVerdict(@TempDir Path dir) throws Exception {
        JsonLines json = new JsonLines(InferenceResult.getClassSchema());
        List<String> lines = new ArrayList<>();
        for (InferenceResult r : ReportFixtures.run("rra", 1, 4, 20, 1_000, 1)) {
            lines.add(json.encode(r));
        }
        Path input = Files.write(dir.resolve("results.jsonl"), lines);
        StdStreams audit = StdStreams.run("audit", "--input", input.toString(), "--arrival", "bulk");
        assertEquals(0, audit.exitCode(), audit.err());
        assertTrue(audit.out().contains("SLO attainment from encode start (verdict)"), audit.out());
        assertTrue(audit.out().contains("verdict from encode start: each round's requests arrived at once"), audit.out());
        StdStreams wrong = StdStreams.run("audit", "--input", input.toString(), "--arrival", "poisson");
        assertEquals(2, wrong.exitCode());
        assertTrue(wrong.err().contains("--arrival poisson: expected open or bulk"), wrong.err());
    }

    @Test
    void aDirectoryIsNoReportFileAndANegativeCountNoCount(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("results.jsonl"), "");
        StdStreams audit = StdStreams.run("audit", "--input", input.toString(), "--html", dir.toString());
        assertEquals(2, audit.exitCode());
        assertTrue(audit.err().contains("--html " + dir + ": is a directory"), audit.err());
        StdStreams negative = StdStreams.run("audit", "--input", input.toString(), "--slowest", "-1");
        assertEquals(2, negative.exitCode());
        assertTrue(negative.err().contains("--slowest -1: must be >= 0"), negative.err());
    }
}
