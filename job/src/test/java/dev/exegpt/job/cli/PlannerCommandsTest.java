package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** plan, simulate and compare through the real command line, with their error lines. */
class PlannerCommandsTest {

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Exegpt.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void planWritesAScheduleThatSimulateReads(@TempDir Path dir) throws Exception {
        Path schedule = dir.resolve("schedule.json");
        Run plan = run("plan", "--model-spec", "opt-13b", "--hardware", "a40:4", "--task", "S", "--slo-ms", "5900",
                "--out", schedule.toString(), "--check", "1000", "--policies", "rra,waa");
        assertEquals(0, plan.code(), plan.err());
        assertTrue(plan.out().contains("schedule: "), plan.out());
        assertTrue(plan.out().contains("runner-up"), plan.out());
        assertTrue(plan.out().contains("family ") && !plan.out().contains("chunked prefill"), "the paper's space: " + plan.out());
        assertTrue(plan.out().contains("check (discrete-event, 1000 requests)"), plan.out());
        assertTrue(Files.readString(schedule).contains("\"predictedSequencesPerSecond\""));
        Path timeline = dir.resolve("timeline.csv");
        Run sim = run("simulate", "--schedule", schedule.toString(), "--requests", "2000", "--timeline", timeline.toString());
        assertEquals(0, sim.code(), sim.err());
        assertTrue(sim.out().contains("throughput (seq/s)"), sim.out());
        assertTrue(Files.readAllLines(timeline).size() > 100);
        assertTrue(Files.readAllLines(timeline).get(1).matches("\\d+,(ENCODE|DECODE),[0-9.]+,[0-9.]+,\\d+"));
    }

    @Test
    void compareShowsEveryBaseline() {
        Run r = run("compare", "--model-spec", "opt-13b", "--hardware", "a40:4", "--task", "T", "--slo-ms", "inf");
        assertEquals(0, r.code(), r.err());
        for (String s : new String[] {"ExeGPT", "STATIC", "ORCA", "CONTINUOUS", "DISAGGREGATED", "vLLM-V0", "vLLM-V1",
                "VLLM-V1 max_num_seqs=", "ExeGPT+chunked", "extended planner: family "}) {
            assertTrue(r.out().contains(s), s + " in " + r.out());
        }
    }

    /**
     * The default search holds the chunked-prefill family and says which family won by how much; the paper's space
     * (--policies rra,waa) never returns it; a VLLM_V1 schedule simulates with its chunked steps.
     */
    @Test
    void planSearchesTheChunkedPrefillFamilyByDefault(@TempDir Path dir) throws Exception {
        Path schedule = dir.resolve("chunked.json");
        Run all = run("plan", "--model-spec", "opt-13b", "--hardware", "a40:4", "--task", "wmt", "--slo-ms", "inf",
                "--out", schedule.toString());
        assertEquals(0, all.code(), all.err());
        assertTrue(all.out().contains("schedule: VLLM-V1 max_num_seqs="), all.out());
        assertTrue(all.out().matches("(?s).*family chunked prefill won \\([0-9.]+ seq/s\\); [0-9.]+x the best of RRA.*"), all.out());
        assertFalse(all.out().contains("VLLM_V1 (chunked prefill) on decoder-only models only"), "OPT's job runs it: " + all.out());
        Path timeline = dir.resolve("timeline.csv");
        Run sim = run("simulate", "--schedule", schedule.toString(), "--requests", "1000", "--timeline", timeline.toString());
        assertEquals(0, sim.code(), sim.err());
        assertTrue(Files.readAllLines(timeline).stream().anyMatch(l -> l.contains(",MIXED,")), "chunked steps in the timeline");
        Run paper = run("plan", "--model-spec", "opt-13b", "--hardware", "a40:4", "--task", "wmt", "--slo-ms", "inf",
                "--policies", "rra,waa");
        assertEquals(0, paper.code(), paper.err());
        assertTrue(!paper.out().contains("VLLM-V1") && paper.out().contains("family WAA won"), paper.out());
        Run bad = run("plan", "--model-spec", "opt-13b", "--hardware", "a40:4", "--task", "wmt", "--slo-ms", "inf",
                "--policies", "rra,orca");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--policies=rra,orca: expected auto, paper or a comma-separated list"), bad.err());
    }

    @Test
    void wrongFlagsGiveOneLineNamingFlagValueAndExpectation() {
        Run badHw = run("plan", "--model-spec", "opt-13b", "--hardware", "tpu:4", "--task", "S", "--slo-ms", "1000");
        assertEquals(2, badHw.code());
        assertEquals(1, badHw.err().strip().lines().count(), badHw.err());
        assertTrue(badHw.err().contains("--hardware=tpu:4") && badHw.err().contains("a100, a40, h100"), badHw.err());
        Run badSlo = run("plan", "--model-spec", "opt-13b", "--hardware", "a40:4", "--task", "S", "--slo-ms", "-3");
        assertEquals(2, badSlo.code());
        assertTrue(badSlo.err().contains("--slo-ms=-3: expected a positive number"), badSlo.err());
        Run infeasible = run("plan", "--model-spec", "opt-13b", "--hardware", "a40:4", "--task", "S", "--slo-ms", "200");
        assertEquals(1, infeasible.code());
        assertTrue(infeasible.err().contains("tightest latency"), infeasible.err());
        Run both = run("plan", "--model-spec", "opt-13b", "--hardware", "a40:4", "--task", "S", "--workload", "x.properties", "--slo-ms", "1");
        assertEquals(2, both.code());
        assertTrue(both.err().contains("exactly one of --task"), both.err());
    }

    @Test
    void planWithReplicasPrintsTheDeploymentAndWhatSaturatesFirst(@TempDir Path dir) throws Exception {
        Path schedule = dir.resolve("replicated.json");
        Run plan = run("plan", "--model-spec", "opt-13b", "--hardware", "a100:8", "--task", "S", "--slo-ms", "5900",
                "--replicas", "125", "--partitions", "128", "--out", schedule.toString());
        assertEquals(0, plan.code(), plan.err());
        assertTrue(plan.out().contains("replicas: 125 x 8 devices = 1000 devices"), plan.out());
        assertTrue(plan.out().contains("kafka: 128 partitions, 1.02 per replica"), plan.out());
        assertTrue(plan.out().contains("checkpoint: ") && plan.out().contains("saturates first: "), plan.out());
        assertTrue(java.nio.file.Files.readString(schedule).matches("(?s).*\"numReplicas\"\\s*:\\s*125\\b.*"),
                "the schedule names its replicas");
        Run bad = run("plan", "--model-spec", "opt-13b", "--hardware", "a100:8", "--task", "S", "--slo-ms", "5900",
                "--replicas", "0");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--replicas=0: expected at least 1"), bad.err());
    }
}
