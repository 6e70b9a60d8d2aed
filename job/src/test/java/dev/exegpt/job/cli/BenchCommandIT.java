package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * {@code exegpt bench} end to end with a tiny T5: its own real broker, the Flink job, all three policies in one round,
 * switched at run time. Every request is answered once, under its own policy's schedule, and the table and bench.json
 * agree with the result files.
 */
class BenchCommandIT {

    private static final int REQUESTS = 6;

    @Test
    void shouldRunEveryPolicyInOneJobAndReportConsistentFigures() throws Exception {
        Path dir = Path.of("target", "bench-it");
        LocalRig.freshDir(dir);
        // Prompts within the tiny T5's 128 positions, short outputs: the shape of task S, scaled down.
        Path workload = dir.resolve("bench-it.properties");
        Files.writeString(workload, String.join("\n", "name = bench-it", "input.kind = truncnormal", "input.mean = 48",
                "input.std = 30", "input.max = 100", "output.kind = truncnormal", "output.mean = 12", "output.std = 6",
                "output.max = 24", "output.p99 = 22", "correlation.spearman = 0", ""));
        StdStreams run = StdStreams.run("bench", "--dir", dir.toString(), "--arch", "t5", "--size", "tiny", "--workload",
                workload.toString(), "--requests", Integer.toString(REQUESTS), "--rounds", "1", "--warm-up-ms", "300");
        assertEquals(0, run.exitCode(), run.err() + run.out());
        for (String policy : List.of("ExeGPT", "STATIC", "CONTINUOUS")) {
            assertTrue(run.out().lines().anyMatch(l -> l.startsWith(policy + " ")), policy + " missing from the table:\n" + run.out());
        }
        assertTrue(run.out().contains("ExeGPT / STATIC: goodput"), run.out());
        // The profile was fitted to the engine under serving before planning, into a file of its own, then again to the
        // executor's steps in the job (a fit round after the warm-up round), and the arms planned again on that.
        Path fitted = dir.resolve("profile-t5-tiny-fitted-bench-it.json");
        assertTrue(Files.isRegularFile(fitted) && run.out().contains("fitted to serving: encode x"), run.out());
        assertTrue(Files.readString(fitted).contains("fitted to serving"), "the fitted profile says so in its device name");
        Path fittedInJob = dir.resolve("profile-t5-tiny-fitted-bench-it-job.json");
        assertTrue(Files.isRegularFile(fittedInJob) && run.out().contains("fitted in the job: encode x"), run.out());
        assertTrue(Files.readString(fittedInJob).contains("fitted to serving") && Files.readString(fittedInJob).contains("fitted in the job"));
        try (var logs = Files.list(dir.resolve("steps"))) {
            assertTrue(logs.anyMatch(f -> f.getFileName().toString().startsWith("steps-rra-0-attempt1")), "the executor's step log");
        }

        JsonNode bench = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        assertTrue(bench.at("/options/sloMs").asLong() > 0);
        assertEquals("bench-it", bench.at("/options/task").asText());
        assertEquals(fittedInJob.toString(), bench.at("/options/profile").asText());
        JsonNode policies = bench.get("policies");
        assertEquals(3, policies.size());
        Map<String, String> scheduleSuffix = Map.of("ExeGPT", "/rra", "STATIC", "/static", "CONTINUOUS", "/continuous");
        for (JsonNode p : policies) {
            String name = p.get("policy").asText();
            JsonNode m = p.get("measured");
            assertEquals(REQUESTS, m.get("requestsSent").asInt(), name);
            assertEquals(REQUESTS, m.get("requestsAnswered").asInt(), name);
            double attainment = m.get("sloAttainment").asDouble();
            assertTrue(attainment >= 0 && attainment <= 1, name + " attainment " + attainment);
            assertTrue(m.get("goodputRequestsPerSecond").asDouble() <= m.get("requestsPerSecond").asDouble() + 1e-9, name);
            assertTrue(m.get("requestsPerSecond").asDouble() > 0, name);
            assertTrue(m.get("endToEndP50Ms").asDouble() <= m.get("endToEndP99Ms").asDouble(), name);
            assertTrue(p.at("/eventSimulator/requestsPerSecond").asDouble() > 0, name);
            assertTrue(p.at("/xsimulator/saturationRequestsPerSecond").asDouble() > 0, name);

            // Every request answered once, tagged with its policy, under that policy's schedule (the switch happened).
            List<String> lines = Files.readAllLines(dir.resolve("results-" + name.toLowerCase() + ".jsonl"));
            assertEquals(REQUESTS, lines.size(), name);
            assertEquals(REQUESTS, lines.stream().map(l -> readTree(l).get("requestId").asText()).distinct().count(), name);
            for (String line : lines) {
                JsonNode r = readTree(line);
                assertEquals(name, r.at("/metadata/bench.policy").asText(), line);
                assertTrue(r.get("scheduleId").asText().endsWith(scheduleSuffix.get(name)), line);
                assertEquals("MAX_TOKENS", r.get("finishReason").asText(), line);
            }
        }
        String html = Files.readString(dir.resolve("bench.html"));
        assertTrue(html.contains("CONTINUOUS") && html.contains("<table>"), html);
    }

    private static JsonNode readTree(String json) {
        try {
            return new ObjectMapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
