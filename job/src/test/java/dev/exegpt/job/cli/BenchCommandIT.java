package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import dev.exegpt.job.local.LocalRig;

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
        Path workload = workload(dir);
        // A Python without torch (a virtual environment with no packages: a machine without the wheels): the
        // transformers arm is skipped with one line and the bench runs the job's arms.
        Path bare = dir.resolve("bare-venv");
        assertEquals(0, new ProcessBuilder("python3", "-m", "venv", "--without-pip", bare.toString()).inheritIO().start().waitFor());
        StdStreams run = StdStreams.run("bench", "--dir", dir.toString(), "--arch", "t5", "--size", "tiny", "--workload",
                workload.toString(), "--requests", Integer.toString(REQUESTS), "--rounds", "1", "--warm-up-ms", "300",
                "--devices", "1", "--transformers", bare.resolve("bin/python").toString());
        assertEquals(0, run.exitCode(), run.err() + run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.equals("  TRANSFORMERS skipped: " + bare.resolve("bin/python")
                + " cannot import torch and transformers (ModuleNotFoundError: No module named 'torch'); run"
                + " gpu-udf/python/setup-venv.sh (about 40 s from this machine's local wheels)")), run.out());
        assertTrue(run.out().lines().noneMatch(l -> l.startsWith("TRANSFORMERS ")), run.out());
        for (String policy : List.of("ExeGPT", "STATIC", "CONTINUOUS", "VLLM_V0")) {
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
        try (var logs = Files.walk(dir.resolve("steps"))) {
            assertTrue(logs.anyMatch(f -> f.getFileName().toString().startsWith("steps-rra-0-attempt1")), "the executor's step log");
        }

        JsonNode bench = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        assertTrue(bench.at("/options/sloMs").asLong() > 0);
        assertEquals("bench-it", bench.at("/options/task").asText());
        assertEquals(fittedInJob.toString(), bench.at("/options/profile").asText());
        JsonNode policies = bench.get("policies");
        assertEquals(4, policies.size());
        // T5 is encoder-decoder: the vLLM its users would run is V0 (budgeted prompt batching).
        Map<String, String> scheduleSuffix = Map.of("ExeGPT", "/rra", "STATIC", "/static", "CONTINUOUS", "/continuous",
                "VLLM_V0", "/vllm-v0");
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

    /**
     * Two devices (one core each): the planner searches RRA, WAA-C and WAA-M; the bench runs a WAA arm and an RRA arm
     * beside STATIC and CONTINUOUS, in one job per engine layout, and every arm's results name the layout it was
     * planned with.
     */
    @Test
    void shouldRunAWaaArmAndAnRraArmOnTwoDevicesAsPlanned() throws Exception {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "two devices need two cores");
        Path dir = Path.of("target", "bench-it-2");
        LocalRig.freshDir(dir);
        StdStreams run = StdStreams.run("bench", "--dir", dir.toString(), "--arch", "t5", "--size", "tiny", "--workload",
                workload(dir).toString(), "--requests", Integer.toString(REQUESTS), "--rounds", "1", "--warm-up-ms", "300",
                "--devices", "2", "--no-fit", "--no-warm-up-round", "--transformers", "off");
        assertEquals(0, run.exitCode(), run.err() + run.out());
        assertTrue(Files.isRegularFile(dir.resolve("profile-t5-tiny-d2.json")), "the 2-device profile");
        JsonNode policies = new ObjectMapper().readTree(dir.resolve("bench.json").toFile()).get("policies");
        assertEquals(5, policies.size(), run.out());
        boolean waa = false, rra = false;
        for (JsonNode p : policies) {
            String name = p.get("policy").asText();
            String planned = p.get("plannedLayout").asText();
            assertEquals(List.of(planned), readList(p.get("executedLayouts")), name + " ran as planned");
            assertEquals(REQUESTS, p.at("/measured/requestsAnswered").asInt(), name);
            assertTrue(run.out().lines().anyMatch(l -> l.startsWith(name + " ") && l.contains(" ran " + planned)),
                    name + " with its executed layout in the table:\n" + run.out());
            String policy = p.at("/schedule/policy").asText();
            if (name.startsWith("ExeGPT")) {
                waa |= policy.startsWith("WAA");
                rra |= policy.equals("RRA");
                assertEquals(2, p.at("/schedule/numDevices").asInt(), name);
            }
            if (policy.startsWith("WAA")) {
                assertTrue(planned.startsWith("enc RRA[") && planned.contains(" + dec RRA["), planned);
            }
        }
        assertTrue(waa && rra, "a WAA arm and an RRA arm:\n" + run.out());
        assertTrue(run.out().contains("2 jobs (one per engine layout)") || run.out().contains("3 jobs (one per engine layout)"), run.out());
    }

    /**
     * The transformers arm beside the job's: generate() on the same tiny checkpoint, the same requests and SLO, a batch
     * swept before the job starts; its row in the table and bench.json with plausible figures (every request answered
     * once with its drawn output length, on the bench's clock, within the span of its rounds), and the ratio to it.
     */
    @Test
    void shouldRunTheTransformersArmBesideTheJobsArms() throws Exception {
        Path venv = Path.of("..", "gpu-udf", "target", "hf-venv", "bin", "python");
        String message = "no " + venv + ": run gpu-udf/python/setup-venv.sh (about 40 s from this machine's local wheels)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) assertTrue(Files.isExecutable(venv), message + " (CI=true: a failure)");
        assumeTrue(Files.isExecutable(venv), message);
        Path dir = Path.of("target", "bench-it-transformers");
        LocalRig.freshDir(dir);
        StdStreams run = StdStreams.run("bench", "--dir", dir.toString(), "--arch", "t5", "--size", "tiny", "--workload",
                workload(dir).toString(), "--requests", Integer.toString(REQUESTS), "--rounds", "2", "--warm-up-ms", "300",
                "--devices", "1", "--no-fit", "--no-warm-up-round", "--transformers", venv.toString());
        assertEquals(0, run.exitCode(), run.err() + run.out());
        assertTrue(run.out().contains("TRANSFORMERS runs B="), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("TRANSFORMERS B=") && l.contains(" ran generate() B=")
                && l.contains("transformers 5.")), "its row in the table:\n" + run.out());
        assertTrue(run.out().contains("ExeGPT / TRANSFORMERS: goodput"), run.out());

        JsonNode bench = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        long slo = bench.at("/options/sloMs").asLong();
        JsonNode peer = null;
        for (JsonNode p : bench.get("policies")) if (p.get("policy").asText().equals("TRANSFORMERS")) peer = p;
        assertTrue(peer != null, bench.toString());
        assertTrue(peer.get("peer").asText().startsWith("transformers 5."), peer.toString());
        int batch = peer.get("batch").asInt();
        assertTrue(batch >= 1 && batch <= REQUESTS, peer.toString());
        assertTrue(peer.get("batchSweep").size() >= 1 && peer.at("/batchSweep/0/batch").asInt() == 1, peer.toString());
        JsonNode m = peer.get("measured");
        assertEquals(2 * REQUESTS, m.get("requestsSent").asInt());
        assertEquals(2 * REQUESTS, m.get("requestsAnswered").asInt());
        assertEquals(2, m.get("rounds").size());
        assertTrue(m.get("requestsPerSecond").asDouble() > 0, m.toString());
        assertTrue(m.get("goodputRequestsPerSecond").asDouble() <= m.get("requestsPerSecond").asDouble() + 1e-9, m.toString());
        assertTrue(m.get("ttftP50Ms").asDouble() > 0 && m.get("ttftP50Ms").asDouble() <= m.get("endToEndP50Ms").asDouble(), m.toString());
        double meanBatch = m.get("meanEncodeBatch").asDouble();
        assertTrue(meanBatch >= 1 && meanBatch <= batch, "static batches of at most B=" + batch + ": " + m);
        assertTrue(bench.at("/ratios/exegptOverTransformersThroughput").asDouble() > 0, bench.at("/ratios").toString());

        // Each request of a round once, tagged, with the length it was sent with: the same requests the job's arms got.
        List<String> lines = Files.readAllLines(dir.resolve("results-transformers.jsonl"));
        List<String> exegpt = Files.readAllLines(dir.resolve("results-exegpt.jsonl"));
        assertEquals(2 * REQUESTS, lines.size());
        for (int k = 0; k < lines.size(); k++) {
            JsonNode r = readTree(lines.get(k));
            assertEquals("TRANSFORMERS", r.at("/metadata/bench.policy").asText(), lines.get(k));
            assertEquals("MAX_TOKENS", r.get("finishReason").asText(), lines.get(k));
            String index = r.get("requestId").asText().replaceAll(".*-", "");
            JsonNode same = null;
            for (String x : exegpt) {
                JsonNode j = readTree(x);
                if (j.get("requestId").asText().replaceAll(".*-", "").equals(index)) same = j;
            }
            assertTrue(same != null, lines.get(k));
            assertEquals(same.get("numInputTokens").asInt(), r.get("numInputTokens").asInt(), lines.get(k));
            assertEquals(same.get("numOutputTokens").asInt(), r.get("numOutputTokens").asInt(), lines.get(k));
            assertEquals(r.get("numOutputTokens").asInt(), r.get("outputTokenIds").size(), lines.get(k));
            JsonNode l = r.get("latency");
            assertTrue(l.get("queueMs").asDouble() >= 0 && l.get("encodeMs").asDouble() > 0 && l.get("decodeMs").asDouble() >= 0, lines.get(k));
            assertEquals(l.get("endToEndMs").asDouble(), l.get("queueMs").asDouble() + l.get("encodeMs").asDouble()
                    + l.get("decodeMs").asDouble(), 1e-6, lines.get(k));
            assertEquals(l.get("endToEndMs").asDouble() <= slo, r.at("/sloMet/boolean").asBoolean(), lines.get(k));
            assertEquals(slo, r.at("/sloLatencyMs/long").asLong(), lines.get(k));
            // The same checkpoint in both: greedy decoding gives the engine's tokens (HfInteropTest checks the logits).
            assertEquals(same.get("outputTokenIds"), r.get("outputTokenIds"), "the engine's tokens: " + same + "\n" + lines.get(k));
        }
        String html = Files.readString(dir.resolve("bench.html"));
        assertTrue(html.contains("TRANSFORMERS B="), "the arm in bench.html");
    }

    /**
     * bench --sweep with the tiny OPT on one device: every bound (the tightest feasible, 2x and 4x that, STATIC's
     * p10/p30/p70, none) with ExeGPT, STATIC and vLLM (V1, chunked prefill, on the real engine) tuned for it in one job, every request carrying its arm's bound as its SLO; the sweep's
     * table, bench.json's per-bound goodput and ratios, and bench.html's chart of goodput versus the bound.
     */
    @Test
    void shouldSweepTheBoundsWithEveryPolicyTunedForEach() throws Exception {
        Path dir = Path.of("target", "bench-it-sweep");
        LocalRig.freshDir(dir);
        StdStreams run = StdStreams.run("bench", "--dir", dir.toString(), "--arch", "opt", "--size", "tiny", "--workload",
                workload(dir).toString(), "--requests", Integer.toString(REQUESTS), "--rounds", "2", "--warm-up-ms", "300",
                "--devices", "1", "--no-fit", "--no-warm-up-round", "--sweep");
        assertEquals(0, run.exitCode(), run.err() + run.out());
        assertTrue(run.out().contains("Goodput per bound (from encode start)"), run.out());
        List<String> labels = List.of("tightest", "2x-tightest", "4x-tightest", "p10", "p30", "p70", "inf");
        for (String bound : labels) {
            assertTrue(run.out().lines().anyMatch(l -> l.startsWith(bound + " ")), bound + " row:\n" + run.out());
        }
        assertTrue(run.out().contains("TRANSFORMERS: not in --sweep"), run.out());

        JsonNode bench = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        JsonNode bounds = bench.at("/sweep/bounds");
        assertEquals(labels.size(), bounds.size(), bench.at("/sweep").toString());
        double previous = 0;
        for (JsonNode b : bounds) {
            String label = b.get("bound").asText();
            boolean none = label.equals("inf");
            assertTrue(none ? b.get("boundMs").isNull() : b.get("boundMs").asDouble() >= previous, "ascending: " + b);
            if (!none) previous = b.get("boundMs").asDouble();
            JsonNode exegpt = b.at("/policies/ExeGPT");
            assertTrue(!exegpt.isNull(), "ExeGPT has a schedule at every bound from the tightest feasible: " + b);
            assertEquals(2, exegpt.get("goodputPerRound").size(), b.toString());
            for (String policy : List.of("ExeGPT", "STATIC", "vLLM")) {
                JsonNode p = b.at("/policies/" + policy);
                if (p.isNull()) continue;           // NS: no schedule of the policy meets the bound
                for (JsonNode g : p.get("goodputPerRound")) assertTrue(g.asDouble() >= 0, b.toString());
                for (JsonNode a : p.get("attainmentPerRound")) assertTrue(a.asDouble() >= 0 && a.asDouble() <= 1, b.toString());
                // Each request carried the bound as its own SLO (unbounded: the largest the job accepts).
                List<String> lines = Files.readAllLines(dir.resolve("results-" + policy.toLowerCase() + "@" + label + ".jsonl"));
                assertEquals(2 * REQUESTS, lines.size(), policy + "@" + label);
                long slo = readTree(lines.get(0)).at("/sloLatencyMs/long").asLong();
                assertEquals(none ? dev.exegpt.job.bench.BoundSweep.UNBOUNDED_SLO_MS : (long) Math.ceil(b.get("boundMs").asDouble()),
                        slo, policy + "@" + label);
                if (none) {
                    assertEquals(1.0, p.at("/attainmentPerRound/0").asDouble(), 1e-9, "every request meets no bound: " + b);
                }
            }
            if (!b.at("/policies/STATIC").isNull()) {
                // Round by round; null where STATIC met nothing in a round (an infinite ratio).
                JsonNode r = b.get("exegptOverStatic");
                assertTrue(r.get("min").isNull() || r.get("median").isNull() || r.get("min").asDouble() <= r.get("median").asDouble(),
                        b.toString());
            }
        }
        assertTrue(bench.at("/ratios").isMissingNode(), "one SLO's ratios are not written with --sweep");
        JsonNode unbounded = bounds.get(bounds.size() - 1).at("/policies/vLLM");
        assertTrue(unbounded.get("label").asText().contains(" VLLM-V1 "), "OPT's vLLM is V1 (chunked prefill): " + unbounded);
        String html = Files.readString(dir.resolve("bench.html"));
        assertTrue(html.contains("data-chart=\"bound-sweep\"") && html.contains("Goodput per latency bound"), "the sweep's chart and table");
        assertTrue(html.contains("data-series=\"ExeGPT\"") && html.contains("data-series=\"STATIC\""), "a line per policy");
    }

    private static Path workload(Path dir) throws java.io.IOException {
        // Prompts and outputs within the tiny models' 128 positions, short outputs: the shape of task S, scaled down.
        Path workload = dir.resolve("bench-it.properties");
        Files.writeString(workload, String.join("\n", "name = bench-it", "input.kind = truncnormal", "input.mean = 48",
                "input.std = 30", "input.max = 100", "output.kind = truncnormal", "output.mean = 12", "output.std = 6",
                "output.max = 24", "output.p99 = 22", "correlation.spearman = 0", ""));
        return workload;
    }

    private static List<String> readList(JsonNode array) {
        List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static JsonNode readTree(String json) {
        try {
            return new ObjectMapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
