package dev.exegpt.job.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.exegpt.job.kafka.KafkaBroker;
import dev.exegpt.job.kafka.KafkaBrokerExtension;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;

/**
 * What a user whose machine crashes sees: {@code exegpt run} (the embedded MiniCluster, in its own JVM, started with
 * the same command each time) is killed with SIGKILL three times at random points of a 2,000-request stream and
 * started again. It resumes from the latest checkpoint it kept in its state folder, so every request is answered
 * exactly once (read committed), an id sent again after the restarts is still recognised as a duplicate, and the
 * results name the attempt that produced them. Figures (recovery time per restart) go to
 * {@code target/cluster-it-embedded-restart.txt}.
 */
@ExtendWith(KafkaBrokerExtension.class)
class EmbeddedRestartIT {

    private static final int NUM_REQUESTS = Integer.getInteger("exegpt.it.embedded.requests", 2_000);
    private static final double RATE_PER_SECOND = Double.parseDouble(System.getProperty("exegpt.it.embedded.rate", "20"));
    private static final int NUM_KILLS = 3;

    @Test
    void aKilledRunStartedAgainShouldAnswerEveryRequestExactlyOnce(KafkaBroker broker) throws Exception {
        Path model = ClusterJobHarness.tinyModel();
        Map<String, String> topics = new HashMap<>();
        for (String t : Topics.all()) {
            topics.put(t, broker.freshTopic(t));
        }
        Path work = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "embedded-restart-it-").toAbsolutePath();
        Path config = writeConfig(work.resolve("exegpt.properties"), broker.bootstrapServers(), topics, model);
        List<String> command = List.of(ProcessHandle.current().info().command().orElse("java"),
                "--add-modules", "jdk.incubator.vector", "-Xmx768m", "-jar", FlinkJars.jobJar(null).toString(),
                "run", "--config", config.toString(), "--flink-conf", Path.of("..", "flink-conf").toAbsolutePath().toString(),
                "--state-dir", work.resolve("state").toString());
        Random random = new Random(Long.getLong("exegpt.it.embedded.seed", System.nanoTime()));
        List<String> figures = new ArrayList<>();
        Process run = start(command, work, 0);
        try (ClusterJobHarness.Collector collector = new ClusterJobHarness.Collector(broker.bootstrapServers(), topics.get(Topics.RESULTS));
             ClusterJobHarness.Sender sender = new ClusterJobHarness.Sender(broker.bootstrapServers(), topics.get(Topics.REQUESTS),
                     NUM_REQUESTS, RATE_PER_SECOND)) {
            for (int k = 1; k <= NUM_KILLS; k++) {
                // Kill once this attempt has committed results (so a checkpoint of it exists), at a random moment after.
                awaitAttempt(collector, k, 180_000);
                Thread.sleep(1_000 + random.nextInt(6_000));
                int seenBefore = collector.numDistinct();
                long killAtMs = System.currentTimeMillis();
                run.destroyForcibly();                                     // SIGKILL
                assertTrue(run.waitFor(30, TimeUnit.SECONDS), "the killed JVM is gone");
                long startAtMs = System.currentTimeMillis();
                run = start(command, work, k);
                long resumedAtMs = awaitAttempt(collector, k + 1, 180_000);
                String line = String.format("kill %d at %d results committed, %d requests sent: restart -> first committed result of attempt %d %.1f s (kill -> %.1f s)",
                        k, seenBefore, sender.numSent(), k + 1, (resumedAtMs - startAtMs) / 1e3, (resumedAtMs - killAtMs) / 1e3);
                System.out.println(line);
                figures.add(line);
            }
            sender.await(600_000);
            collector.awaitDistinct(NUM_REQUESTS, 300_000);
            // An id answered before the kills, sent again: still remembered, so a dead letter and no second result.
            String again = ClusterJobHarness.id(3);
            AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(broker.bootstrapServers(), "again"))) {
                producer.send(new ProducerRecord<>(topics.get(Topics.REQUESTS), again.getBytes(StandardCharsets.UTF_8),
                        codec.encode(InferenceRequest.newBuilder().setRequestId(again).setTask("summarization")
                                .setPromptText("sent again after the restarts").setMaxNewTokens(2).setIgnoreEos(true).build()))).get();
            }
            List<DeadLetter> duplicates = readDeadLetters(broker, topics.get(Topics.DEAD_LETTER), again, 60_000);
            Thread.sleep(3_000);

            Map<String, Integer> counts = ClusterJobHarness.countCommittedById(broker.bootstrapServers(), topics.get(Topics.RESULTS));
            ClusterJobHarness.Tally tally = ClusterJobHarness.Tally.of(counts, NUM_REQUESTS);
            int maxAttempt = collector.inOrder().stream().mapToInt(s -> s.result().getAttempt()).max().orElse(0);
            String summary = String.format("embedded exegpt run, SIGKILL x%d, %d requests at %.0f/s: lost %d, duplicated %d, "
                            + "attempts seen 1..%d, re-sent id %s -> %d dead letter(s) %s",
                    NUM_KILLS, NUM_REQUESTS, RATE_PER_SECOND, tally.missing().size(), tally.duplicated().size(), maxAttempt, again,
                    duplicates.size(), duplicates.isEmpty() ? "" : duplicates.get(0).getReason());
            System.out.println(summary);
            figures.add(summary);
            Files.write(Path.of("target", "cluster-it-embedded-restart.txt"), figures);

            tally.assertExactlyOnce(NUM_REQUESTS);
            assertEquals(NUM_KILLS + 1, maxAttempt, "each restart of the job counts in the attempt");
            assertEquals(1, duplicates.size(), "the re-sent id is deduplicated across the restarts");
            assertTrue(duplicates.get(0).getReason().contains("duplicate requestId"), duplicates.get(0).getReason());
            assertEquals(1, (int) counts.get(again), "and not answered twice");
        } finally {
            if (run != null) {
                run.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static Process start(List<String> command, Path work, int n) throws IOException {
        return new ProcessBuilder(command).directory(Path.of("").toAbsolutePath().toFile()).redirectErrorStream(true)
                .redirectOutput(work.resolve("run-" + n + ".log").toFile()).start();
    }

    /** Waits for the first committed result of {@code attempt} and returns when this consumer saw it. */
    private static long awaitAttempt(ClusterJobHarness.Collector collector, int attempt, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            for (ClusterJobHarness.Seen s : collector.inOrder()) {
                if (s.result().getAttempt() == attempt) {
                    return s.seenAtMs();
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no result of attempt " + attempt + " within " + timeoutMs + " ms");
    }

    private static Path writeConfig(Path file, String bootstrap, Map<String, String> topics, Path model) throws IOException {
        List<String> lines = List.of(
                "kafka.bootstrap = " + bootstrap,
                "kafka.group.id = embedded-restart-it-" + System.nanoTime(),
                "topic.requests = " + topics.get(Topics.REQUESTS),
                "topic.results = " + topics.get(Topics.RESULTS),
                "topic.deadletter = " + topics.get(Topics.DEAD_LETTER),
                "topic.audit = " + topics.get(Topics.AUDIT),
                "topic.schedules = " + topics.get(Topics.SCHEDULES),
                "delivery = exactly-once",
                "model.dir = " + model,
                "model.backend = cpu",
                "executors = 1",
                "executor.threads.per.device = 1",
                "executor.warmup.ms = 0",
                "schedule.policy = continuous",
                "schedule.encode.batch = 16",
                "schedule.decode.batch = 32",
                "task.slo.ms.summarization = 120000");
        Files.write(file, lines);
        return file;
    }

    private static List<DeadLetter> readDeadLetters(KafkaBroker broker, String topic, String requestId, long timeoutMs) throws Exception {
        AvroBinary<DeadLetter> codec = new AvroBinary<>(DeadLetter.getClassSchema());
        List<DeadLetter> out = new ArrayList<>();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(
                KafkaClients.consumer(broker.bootstrapServers(), "dead-" + System.nanoTime()))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (out.isEmpty() && System.currentTimeMillis() < deadline) {
                for (var r : consumer.poll(java.time.Duration.ofMillis(300))) {
                    DeadLetter d = codec.decode(r.value());
                    if (requestId.equals(d.getRequestId())) {
                        out.add(d);
                    }
                }
            }
            for (var r : consumer.poll(java.time.Duration.ofSeconds(2))) {
                DeadLetter d = codec.decode(r.value());
                if (requestId.equals(d.getRequestId())) {
                    out.add(d);
                }
            }
        }
        return out;
    }
}
