package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.exegpt.job.kafka.KafkaBroker;
import dev.exegpt.job.kafka.KafkaBrokerExtension;
import dev.exegpt.job.kafka.Topics;

/** {@code exegpt send} and {@code exegpt tail} against a real broker, as a user runs them. */
@ExtendWith(KafkaBrokerExtension.class)
class SendAndTailIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldSendAFileAndTailItBackAsJson(KafkaBroker broker) throws Exception {
        String topic = broker.freshTopic(Topics.REQUESTS);
        Path file = Files.createTempFile(Path.of("target"), "requests-", ".jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            lines.add("{\"requestId\":\"f" + i + "\",\"task\":\"summarization\",\"prompt\":\"text " + i + "\",\"maxNewTokens\":" + (8 + i) + "}");
        }
        Files.write(file, lines);

        StdStreams send = StdStreams.run("send", "--bootstrap", broker.bootstrapServers(), "--topic", topic, "--file", file.toString());
        assertEquals(0, send.exitCode(), send.err());
        assertTrue(send.out().contains("sent 50 requests"), send.out());

        StdStreams tail = StdStreams.run("tail", "--bootstrap", broker.bootstrapServers(), "--topic", topic, "--max", "50");
        assertEquals(0, tail.exitCode(), tail.err());
        Set<String> ids = new HashSet<>();
        for (String line : tail.out().strip().split("\n")) {
            JsonNode record = JSON.readTree(line);
            ids.add(record.get("requestId").textValue());
            int index = Integer.parseInt(record.get("requestId").textValue().substring(1));
            assertEquals(8 + index, record.get("maxNewTokens").intValue());
            assertEquals("text " + index, record.get("promptText").get("string").textValue());
        }
        assertEquals(50, ids.size(), "tail must print every record once");
    }

    @Test
    void shouldSkipAndNameMalformedLinesAndStillSendTheRest(KafkaBroker broker) throws Exception {
        String topic = broker.freshTopic(Topics.REQUESTS);
        Path file = Files.createTempFile(Path.of("target"), "mixed-", ".jsonl");
        Files.write(file, List.of(
                "{\"requestId\":\"ok1\",\"task\":\"S\",\"prompt\":\"a\",\"maxNewTokens\":4}",
                "{\"requestId\":\"bad\",\"task\":\"S\",\"maxNewTokens\":\"four\"}",
                "",
                "{\"requestId\":\"ok2\",\"task\":\"S\",\"prompt\":\"b\",\"maxNewTokens\":4}"));
        StdStreams send = StdStreams.run("send", "--bootstrap", broker.bootstrapServers(), "--topic", topic, "--file", file.toString());
        assertEquals(1, send.exitCode(), "a skipped line makes the exit code non-zero");
        assertTrue(send.out().contains("sent 2 requests"), send.out());
        assertTrue(send.err().contains(":2: field \"maxNewTokens\": expected a 32-bit integer"), send.err());
    }

    @Test
    void shouldSampleRequestsFromATaskDistribution(KafkaBroker broker) throws Exception {
        String topic = broker.freshTopic(Topics.REQUESTS);
        StdStreams send = StdStreams.run("send", "--bootstrap", broker.bootstrapServers(), "--topic", topic,
                "--task", "humaneval", "--count", "300", "--rate", "2000", "--seed", "3", "--slo-ms", "4000");
        assertEquals(0, send.exitCode(), send.err());
        assertTrue(send.out().contains("sent 300 requests from task humaneval"), send.out());

        StdStreams tail = StdStreams.run("tail", "--bootstrap", broker.bootstrapServers(), "--topic", topic, "--max", "300");
        assertEquals(0, tail.exitCode(), tail.err());
        Set<String> ids = new HashSet<>();
        double sumOutput = 0;
        for (String line : tail.out().strip().split("\n")) {
            JsonNode record = JSON.readTree(line);
            ids.add(record.get("requestId").textValue());
            assertEquals("humaneval", record.get("task").textValue());
            assertTrue(record.get("ignoreEos").booleanValue(), "sampled requests produce exactly the sampled length");
            assertEquals(4000, record.get("sloLatencyMs").get("long").longValue());
            assertTrue(!record.get("promptText").get("string").textValue().isBlank());
            sumOutput += record.get("maxNewTokens").intValue();
        }
        assertEquals(300, ids.size());
        // HumanEval's output mean is 97.2 tokens (shared/data README); 300 samples land well within +-25%.
        double meanOutput = sumOutput / 300;
        assertTrue(meanOutput > 73 && meanOutput < 122, "mean sampled output length " + meanOutput);

        StdStreams unknown = StdStreams.run("send", "--bootstrap", broker.bootstrapServers(), "--topic", topic,
                "--task", "poetry", "--count", "3");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown task 'poetry': expected one of [S, T, G"), unknown.err());
    }

    @Test
    void shouldSayInOneLineThatNoBrokerAnswers() {
        StdStreams send = StdStreams.run("send", "--bootstrap", "127.0.0.1:1", "--file", "pom.xml");
        assertEquals(1, send.exitCode());
        assertEquals("send: no Kafka broker answered at 127.0.0.1:1 within 5000 ms: start one with 'bin/exegpt kafka', "
                + "or pass --bootstrap HOST:PORT", send.err().strip());
    }

    @Test
    void shouldRejectWrongFlagsWithUsageExitCode(KafkaBroker broker) {
        StdStreams unknown = StdStreams.run("send", "--fle", "x");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().startsWith("send: Unknown option"), unknown.err());

        StdStreams badRate = StdStreams.run("send", "--bootstrap", broker.bootstrapServers(), "--file", "pom.xml", "--rate", "-5");
        assertEquals(2, badRate.exitCode());
        assertTrue(badRate.err().contains("--rate -5.0: must be a positive number"), badRate.err());

        StdStreams badTopic = StdStreams.run("tail", "--bootstrap", broker.bootstrapServers(), "--topic", "other");
        assertEquals(2, badTopic.exitCode());
        assertTrue(badTopic.err().contains("topic other is not an exegpt topic"), badTopic.err());
    }
}
