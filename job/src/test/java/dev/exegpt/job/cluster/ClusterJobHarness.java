package dev.exegpt.job.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.job.pipeline.ExegptJob;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;

/**
 * What the cluster ITs share: a tiny real OPT checkpoint, the job's settings for a set of topics, a paced request
 * sender and a read-committed result collector that runs beside the job and remembers when each result arrived.
 */
final class ClusterJobHarness {

    private ClusterJobHarness() {}

    /** A tiny OPT checkpoint with seeded random weights, at an absolute path every TaskManager can read. */
    static Path tinyModel() throws Exception {
        Path model = Files.createDirectories(Path.of("target", "models", "cluster-it-opt")).toAbsolutePath();
        if (!Files.exists(model.resolve("config.json"))) {
            CheckpointWriter.writeRandom(model, ModelSize.TINY.config(Architecture.OPT), 11);
        }
        return model;
    }

    static JobConfig jobConfig(String bootstrap, Map<String, String> topics, Path model, int numExecutors) throws java.io.IOException {
        Map<String, String> p = new HashMap<>();
        p.put("kafka.bootstrap", bootstrap);
        p.put("kafka.group.id", "cluster-it-" + System.nanoTime());
        p.put("topic.requests", topics.get(Topics.REQUESTS));
        p.put("topic.results", topics.get(Topics.RESULTS));
        p.put("topic.deadletter", topics.get(Topics.DEAD_LETTER));
        p.put("topic.audit", topics.get(Topics.AUDIT));
        p.put("topic.schedules", topics.get(Topics.SCHEDULES));
        p.put("delivery", "exactly-once");
        p.put("model.dir", model.toString());
        p.put("model.backend", "cpu");
        p.put("executors", Integer.toString(numExecutors));
        p.put("executor.threads.per.device", "1");
        p.put("executor.warmup.ms", "0");
        p.put("executor.kv.cache.mib", "64");
        p.put("schedule.policy", "continuous");
        p.put("schedule.encode.batch", "32");
        p.put("schedule.decode.batch", "64");
        p.put("schedule.decode.iterations", "2");
        p.put("task.slo.ms.summarization", "120000");
        p.put("audit.window.ms", "5000");
        return JobConfig.load(null, p);
    }

    /** Flink's settings as the client sends them with the job: flink-conf/config.yaml, checkpoints every second. */
    static Configuration clientConfiguration() {
        Configuration flink = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));
        flink.setString("execution.checkpointing.interval", "1s");
        return flink;
    }

    static String id(int i) {
        return String.format("r-%05d", i);
    }

    /** Sends {@code count} small requests at {@code ratePerSecond} from its own thread; the Kafka timestamp is the send time. */
    static final class Sender implements AutoCloseable {
        private final Thread thread;
        private final AtomicInteger numSent = new AtomicInteger();
        private volatile Exception failure;

        Sender(String bootstrap, String topic, int count, double ratePerSecond) {
            thread = new Thread(() -> {
                AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(bootstrap, "cluster-it"))) {
                    long startNanos = System.nanoTime();
                    for (int i = 0; i < count; i++) {
                        long dueNanos = startNanos + (long) (i * 1e9 / ratePerSecond);
                        long waitNanos = dueNanos - System.nanoTime();
                        if (waitNanos > 0) {
                            Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
                        }
                        InferenceRequest r = InferenceRequest.newBuilder().setRequestId(id(i)).setTask("summarization")
                                .setPromptText("Summarise request " + i + " of the cluster test").setMaxNewTokens(2)
                                .setIgnoreEos(true).build();
                        producer.send(new ProducerRecord<>(topic, r.getRequestId().getBytes(StandardCharsets.UTF_8), codec.encode(r)));
                        numSent.incrementAndGet();
                    }
                    producer.flush();
                } catch (Exception e) {
                    failure = e;
                }
            }, "cluster-it-sender");
            thread.setDaemon(true);
            thread.start();
        }

        int numSent() {
            return numSent.get();
        }

        void await(long timeoutMs) throws Exception {
            thread.join(timeoutMs);
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public void close() throws InterruptedException {
            thread.interrupt();
            thread.join(5_000);
        }
    }

    /** Request ids 0..n-1 against the committed results: which are missing, which came more than once. */
    record Tally(List<String> missing, List<String> duplicated, int numRecords) {

        static Tally of(Map<String, Integer> countsById, int numRequests) {
            List<String> missing = new ArrayList<>();
            List<String> duplicated = new ArrayList<>();
            for (int i = 0; i < numRequests; i++) {
                int n = countsById.getOrDefault(id(i), 0);
                if (n == 0) {
                    missing.add(id(i));
                } else if (n > 1) {
                    duplicated.add(id(i) + " x" + n);
                }
            }
            return new Tally(missing, duplicated, countsById.values().stream().mapToInt(Integer::intValue).sum());
        }

        /** Fails unless every request has exactly one result record. */
        void assertExactlyOnce(int numRequests) {
            assertTrue(missing.isEmpty(), missing.size() + " request(s) lost, e.g. " + missing.stream().limit(10).toList());
            assertTrue(duplicated.isEmpty(), duplicated.size() + " request(s) answered more than once, e.g. "
                    + duplicated.stream().limit(10).toList());
            assertEquals(numRequests, numRecords, "one result record per request");
        }
    }

    /**
     * Every committed record of {@code topic} from the beginning, read by a fresh consumer (isolation.level=read_committed),
     * counted per request id: the ground truth for exactly-once, independent of what a consumer saw during the run.
     */
    static Map<String, Integer> countCommittedById(String bootstrap, String topic) {
        AvroBinary<InferenceResult> codec = new AvroBinary<>(InferenceResult.getClassSchema());
        Map<String, Integer> counts = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(bootstrap, "recount-" + System.nanoTime()))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.currentTimeMillis() + 60_000;
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    try {
                        counts.merge(codec.decode(record.value()).getRequestId(), 1, Integer::sum);
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException("undecodable result at offset " + record.offset(), e);
                    }
                }
            }
        }
        return counts;
    }

    /** A result as read, with the wall-clock time this consumer saw it. */
    record Seen(InferenceResult result, long recordTimestampMs, long seenAtMs) {}

    /** Reads results with isolation.level=read_committed (KafkaClients.consumer) from its own thread. */
    static final class Collector implements AutoCloseable {
        private final Map<String, List<Seen>> byId = new ConcurrentHashMap<>();
        private final List<Seen> inOrder = new CopyOnWriteArrayList<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Collector(String bootstrap, String topic) {
            thread = new Thread(() -> {
                AvroBinary<InferenceResult> codec = new AvroBinary<>(InferenceResult.getClassSchema());
                try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(bootstrap, "read-" + topic))) {
                    // Assigned, not subscribed: a group would rejoin after a broker restart and, with no committed
                    // offsets, read the topic again from the start, which would look like duplicates.
                    List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                            .map(p -> new TopicPartition(topic, p.partition())).toList();
                    consumer.assign(partitions);
                    consumer.seekToBeginning(partitions);
                    while (running.get()) {
                        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                            InferenceResult r = codec.decode(record.value());
                            Seen seen = new Seen(r, r.getLatency().getArrivedEpochMs(), System.currentTimeMillis());
                            byId.computeIfAbsent(r.getRequestId(), k -> new CopyOnWriteArrayList<>()).add(seen);
                            inOrder.add(seen);
                        }
                    }
                } catch (Exception e) {
                    if (running.get()) {
                        throw new IllegalStateException("the result collector failed", e);
                    }
                }
            }, "cluster-it-collector");
            thread.setDaemon(true);
            thread.start();
        }

        int numDistinct() {
            return byId.size();
        }

        int numRecords() {
            return inOrder.size();
        }

        Map<String, List<Seen>> byId() {
            return byId;
        }

        List<Seen> inOrder() {
            return new ArrayList<>(inOrder);
        }

        /** Waits until {@code numIds} distinct ids were seen or the timeout passes; then a few seconds more for late duplicates. */
        void awaitDistinct(int numIds, long timeoutMs) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (byId.size() < numIds && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            Thread.sleep(4_000);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(5_000);
        }
    }
}
