package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

import dev.exegpt.job.pipeline.RequestJson;
import dev.exegpt.schemas.InferenceRequest;

/** {@code exegpt send --out}: a task's sample written as the JSON lines that {@code run --input} reads, no broker needed. */
class SendCommandTest {

    @Test
    void aTasksSampleGoesToAFileThatBatchModeReads() throws Exception {
        Path file = Path.of("target", "send-command-test", "requests.jsonl");
        Files.deleteIfExists(file);
        StdStreams send = StdStreams.run("send", "--task", "S", "--count", "40", "--seed", "7", "--out", file.toString());
        assertEquals(0, send.exitCode(), send.err());
        assertTrue(send.out().contains("wrote 40 requests from task S to " + file), send.out());
        List<String> lines = Files.readAllLines(file);
        assertEquals(40, lines.size());
        Set<String> ids = new HashSet<>();
        Set<Integer> outputs = new HashSet<>();
        for (String line : lines) {
            InferenceRequest r = RequestJson.parse(line);
            assertTrue(ids.add(r.getRequestId()), "unique ids: " + r.getRequestId());
            assertEquals("S", r.getTask());
            assertTrue(r.getIgnoreEos(), "exact output lengths, as sampled");
            assertFalse(r.getPromptText().isEmpty());
            outputs.add(r.getMaxNewTokens());
        }
        assertTrue(outputs.size() > 5, "output lengths sampled from the task's distribution: " + outputs);
        assertFalse(Files.exists(file.resolveSibling("requests.jsonl.partial")));
    }

    @Test
    void aRateHasNoMeaningForAFile() {
        StdStreams send = StdStreams.run("send", "--task", "S", "--count", "4", "--rate", "2", "--out", "target/x.jsonl");
        assertEquals(2, send.exitCode());
        assertTrue(send.err().contains("--rate 2.0: --out writes a file, there is no pace to keep; leave out --rate"), send.err());
    }
}
