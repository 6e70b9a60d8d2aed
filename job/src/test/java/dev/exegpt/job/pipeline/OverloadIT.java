package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.KafkaBroker;
import dev.exegpt.job.kafka.KafkaBrokerExtension;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.operators.core.AuditReport;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;

/**
 * Three times the measured capacity for a minute, Poisson arrivals, on a real broker, MiniCluster and tiny OPT model
 * with admission control on: the heap stays bounded, the executor holds no more than its async capacity while the
 * backlog waits in Kafka (consumer lag, source back-pressured), nothing crashes or restarts, every request is
 * answered, and the results and the audit windows report the SLO misses as they happened.
 */
@ExtendWith(KafkaBrokerExtension.class)
class OverloadIT {

    private static final int MAX_NEW_TOKENS = 48;
    private static final int NUM_BURST = 120;
    private static final double OVERLOAD = 3.0;
    private static final long OVERLOAD_MS = 60_000;

    private static final AvroBinary<InferenceRequest> CODEC = new AvroBinary<>(InferenceRequest.getClassSchema());
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One sample of the run, every second. */
    private record Sample(double atS, long heapUsedBytes, long heapAfterGcBytes, long liveHeapBytes, long lag, long pendingInKafka, long executorInFlight,
                          double sourceBackPressuredMsPerS) {}

    @Test
    void threeTimesCapacityShouldBackUpIntoKafkaAndBeAnsweredHonestly(KafkaBroker broker) throws Exception {
        Path model = Files.createDirectories(Path.of("target", "models", "overload-it-opt"));
        CheckpointWriter.writeRandom(model, ModelSize.TINY.config(Architecture.OPT), 5);
        Map<String, String> topics = new HashMap<>();
        for (String t : Topics.all()) {
            topics.put(t, broker.freshTopic(t));
        }
        Map<String, String> settings = JobIt.settings(broker, topics, model);
        settings.put("admission.mode", "reject-late");
        settings.put("executor.warmup.ms", "3000");
        JobConfig config = JobConfig.load(null, settings);
        PipelineSettings pipeline = ExegptJob.settings(config);
        int restPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            restPort = socket.getLocalPort();
        }
        Configuration flink = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));
        flink.setString("execution.checkpointing.interval", "1s");
        flink.set(RestOptions.PORT, restPort);
        flink.setString("metrics.fetcher.update-interval", "1000");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, flink);
        ExegptJob.addStreamingJob(env, config, pipeline);
        JobClient job = env.executeAsync("overload-it");
        String requests = topics.get(Topics.REQUESTS);
        Rest rest = new Rest(restPort, job.getJobID().toString());

        List<InferenceResult> results = Collections.synchronizedList(new ArrayList<>());
        int numSent;
        List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
        double capacity;
        long sloMs;
        long baselineLive;
        int numOverload;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(broker.bootstrapServers(), "overload"));
             ResultReader reader = new ResultReader(broker, topics.get(Topics.RESULTS), results);
             Admin admin = broker.admin()) {
            // Capacity, measured: a burst the executor works through at full batches, timed over its middle half (the
            // ramp-up and the tail run at smaller batches).
            for (int i = 0; i < NUM_BURST; i++) {
                producer.send(new ProducerRecord<>(requests, ("burst-" + i).getBytes(StandardCharsets.UTF_8),
                        request("burst-" + i, null)));
            }
            reader.awaitCount(NUM_BURST, 180_000);
            double[] ends = results.stream().mapToDouble(r -> r.getLatency().getCompletedEpochMs()).sorted().toArray();
            int q1 = NUM_BURST / 4;
            int q3 = 3 * NUM_BURST / 4;
            capacity = (q3 - q1) / ((ends[q3] - ends[q1]) / 1000.0);
            double rate = OVERLOAD * capacity;
            // The SLO of the overload's requests: 4x the longest service time of the burst (8-30 s), so that at capacity
            // they would meet it and the backlog of 3x capacity must miss.
            double maxServiceMs = results.stream().mapToDouble(r -> r.getLatency().getEncodeMs() + r.getLatency().getDecodeMs()).max().orElseThrow();
            sloMs = Math.max(8_000, Math.min(30_000, Math.round(4 * maxServiceMs)));
            System.out.printf("overload: measured capacity %.1f requests/s (%d requests of %d tokens, longest service %.0f ms); "
                    + "offering %.1f/s for %d s with an SLO of %d ms%n", capacity, NUM_BURST, MAX_NEW_TOKENS, maxServiceMs, rate,
                    OVERLOAD_MS / 1000, sloMs);

            // Three times that, Poisson, for a minute, sampled every second.
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            baselineLive = liveHeap();                 // what earlier tests in this JVM and the idle job hold
            long t0 = System.nanoTime();
            int[] tick = {0};
            ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
            sampler.scheduleAtFixedRate(() -> samples.add(new Sample((System.nanoTime() - t0) / 1e9,
                    memory.getHeapMemoryUsage().getUsed(), heapAfterLastGc(), tick[0]++ % 10 == 9 ? liveHeap() : -1, lag(admin, requests, config.groupId()),
                    unread(admin, requests, rest.sourcePositions()),
                    rest.executorInFlight(), rest.sourceBackPressuredMsPerS())), 1, 1, TimeUnit.SECONDS);
            Random random = new Random(42);
            long next = System.nanoTime();
            long end = next + OVERLOAD_MS * 1_000_000;
            numOverload = 0;
            while (next < end) {
                LockSupport.parkNanos(next - System.nanoTime());
                producer.send(new ProducerRecord<>(requests, ("over-" + numOverload).getBytes(StandardCharsets.UTF_8),
                        request("over-" + numOverload, sloMs)));
                numOverload++;
                next += (long) (-Math.log(1 - random.nextDouble()) / rate * 1e9);
            }
            producer.flush();
            numSent = NUM_BURST + numOverload;
            reader.awaitCount(numSent, 120_000);
            sampler.shutdownNow();
        }
        int numAnswered = results.size();
        List<AuditWindow> audit = JobIt.readUntil(broker, topics.get(Topics.AUDIT), AuditWindow.getClassSchema(),
                windows -> windows.stream().mapToLong(AuditWindow::getNumRequests).sum() >= numAnswered);
        JobStatus status = job.getJobStatus().get();
        long numRestarts = rest.numRestarts();
        job.cancel().get();

        // Every request answered exactly once, from the first attempt.
        Set<String> ids = new HashSet<>();
        for (InferenceResult r : results) {
            assertTrue(ids.add(r.getRequestId()), "answered twice: " + r.getRequestId());
            assertEquals(1, r.getAttempt(), "no restart");
        }
        assertEquals(numSent, ids.size(), "every request answered");
        assertEquals(JobStatus.RUNNING, status);
        assertEquals(0, numRestarts, "the job never restarted");

        // Honest verdicts: met means within the SLO; a miss is either late or answered early by admission control.
        List<InferenceResult> overload = results.stream().filter(r -> r.getRequestId().startsWith("over-")).toList();
        int numMet = 0;
        int numRefused = 0;
        int numLate = 0;
        for (InferenceResult r : overload) {
            double e2e = r.getLatency().getEndToEndMs();
            if (Boolean.TRUE.equals(r.getSloMet())) {
                assertTrue(e2e <= sloMs, r.getRequestId() + " met at " + e2e + " ms");
                assertEquals(FinishReason.MAX_TOKENS, r.getFinishReason());
                numMet++;
            } else if (r.getFinishReason() == FinishReason.DEADLINE) {
                assertTrue(r.getErrorMessage().startsWith("admission (reject-late)"), r.getErrorMessage());
                numRefused++;
            } else {
                assertTrue(e2e > sloMs, r.getRequestId() + " missed at " + e2e + " ms");
                numLate++;
            }
        }
        AuditWindow overall = new AuditReport(overload).overall();
        double attainment = (double) numMet / overload.size();
        assertEquals(attainment, overall.getAttainment(), 1e-9, "the audit counts what the results say");
        long windowRequests = audit.stream().mapToLong(AuditWindow::getNumRequests).sum();
        long windowMet = audit.stream().mapToLong(AuditWindow::getNumSloMet).sum();
        long allMet = results.stream().filter(r -> Boolean.TRUE.equals(r.getSloMet())).count();

        Sample peakHeap = samples.stream().max((a, b) -> Long.compare(a.heapUsedBytes(), b.heapUsedBytes())).orElseThrow();
        long peakAfterGc = samples.stream().mapToLong(Sample::heapAfterGcBytes).max().orElseThrow();
        long peakLive = samples.stream().mapToLong(Sample::liveHeapBytes).max().orElseThrow();
        long maxLag = samples.stream().mapToLong(Sample::lag).max().orElseThrow();
        long maxPending = samples.stream().mapToLong(Sample::pendingInKafka).max().orElseThrow();
        long maxInFlight = samples.stream().mapToLong(Sample::executorInFlight).max().orElseThrow();
        double meanBackPressure = samples.stream().filter(s -> s.atS() > 5 && s.atS() < OVERLOAD_MS / 1000.0)
                .mapToDouble(Sample::sourceBackPressuredMsPerS).average().orElse(0);
        System.out.printf("overload: sent %d (%d in the overload at %.1f/s = %.1fx capacity); answered %d: SLO met %d, "
                        + "refused early by admission %d, late %d; attainment %.1f%% (audit %.1f%%)%n", numSent, overload.size(),
                overload.size() / (OVERLOAD_MS / 1000.0), overload.size() / (OVERLOAD_MS / 1000.0) / capacity, results.size(),
                numMet, numRefused, numLate, 100 * attainment, 100 * overall.getAttainment());
        System.out.printf("overload: live heap (after a full GC) %.0f MiB before, at most %.0f MiB during (every 10 s); peak heap used "
                        + "%.0f MiB (at %.0f s; max heap %.0f MiB), peak after a GC %.0f MiB; max records unread in Kafka %d "
                        + "(max lag of committed offsets %d); max executor in flight %d (async capacity %d); source back-pressured "
                        + "%.0f ms/s on average; audit windows: %d requests, %d met%n", baselineLive / 1048576.0, peakLive / 1048576.0,
                peakHeap.heapUsedBytes() / 1048576.0, peakHeap.atS(),
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax() / 1048576.0, peakAfterGc / 1048576.0, maxPending, maxLag, maxInFlight,
                pipeline.asyncCapacity(), meanBackPressure, windowRequests, windowMet);
        long lastBucket = -1;
        for (Sample s : samples) {
            if ((long) (s.atS() / 10) != lastBucket) {
                lastBucket = (long) (s.atS() / 10);
                System.out.printf("  t=%3.0f s heap %4.0f MiB (after GC %4.0f), unread in Kafka %5d, committed lag %5d, in flight %3d, "
                        + "source back-pressured %4.0f ms/s%n", s.atS(), s.heapUsedBytes() / 1048576.0, s.heapAfterGcBytes() / 1048576.0,
                        s.pendingInKafka(), s.lag(),
                        s.executorInFlight(), s.sourceBackPressuredMsPerS());
            }
        }

        assertTrue(attainment < 1.0 && numMet > 0, "an overload misses some SLOs and meets some: " + attainment);
        assertTrue(numRefused > 0, "admission control answered hopeless requests early");
        assertEquals(results.size(), windowRequests, "the audit windows count every result");
        assertEquals(allMet, windowMet, "and every met SLO, no more");
        assertTrue(maxPending > 2L * pipeline.asyncCapacity(), "more of the backlog waits unread in Kafka than the executor holds: "
                + maxPending);
        assertTrue(meanBackPressure > 100, "the source is back-pressured: " + meanBackPressure + " ms/s");
        assertTrue(maxInFlight > 0 && maxInFlight <= pipeline.asyncCapacity(), "the executor holds at most its capacity: " + maxInFlight);
        assertTrue(peakLive > 0 && peakLive < baselineLive + (256L << 20), "live heap bounded: " + (baselineLive >> 20) + " MiB before, "
                + (peakLive >> 20) + " MiB at most during the overload");
    }

    /** A request; {@code sloMs} null applies the task's (60 s). */
    private static byte[] request(String id, Long sloMs) {
        return CODEC.encode(InferenceRequest.newBuilder().setRequestId(id).setTask("summarization")
                .setPromptText("Summarize the following report about the quarterly results " + id)
                .setMaxNewTokens(MAX_NEW_TOKENS).setIgnoreEos(true).setSloLatencyMs(sloMs).build());
    }

    /** Heap in use after a full collection: what is live, bytes. */
    private static long liveHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Heap in use right after the most recent garbage collection (what survived it), bytes; -1 before any. */
    private static long heapAfterLastGc() {
        Set<String> heapPools = new HashSet<>();
        for (var pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP) {
                heapPools.add(pool.getName());
            }
        }
        long latestEnd = -1;
        long after = -1;
        for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof com.sun.management.GarbageCollectorMXBean sun && sun.getLastGcInfo() != null
                    && sun.getLastGcInfo().getEndTime() > latestEnd) {
                latestEnd = sun.getLastGcInfo().getEndTime();
                after = sun.getLastGcInfo().getMemoryUsageAfterGc().entrySet().stream()
                        .filter(e -> heapPools.contains(e.getKey())).mapToLong(e -> e.getValue().getUsed()).sum();
            }
        }
        return after;
    }

    /** Records on the requests topic past the source's consumer positions: waiting in Kafka, not yet read; -1 if unknown. */
    private static long unread(Admin admin, String topic, long positions) {
        if (positions < 0) {
            return -1;
        }
        try {
            return endOffsets(admin, topic) - positions;
        } catch (Exception e) {
            return -1;
        }
    }

    private static long endOffsets(Admin admin, String topic) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < Topics.DEFAULT_PARTITIONS; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        long sum = 0;
        for (var e : admin.listOffsets(latest).all().get(5, TimeUnit.SECONDS).values()) {
            sum += e.offset();
        }
        return sum;
    }

    /** Records on the requests topic that the job's consumer group has not committed yet (committed on checkpoints). */
    private static long lag(Admin admin, String topic, String groupId) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < Topics.DEFAULT_PARTITIONS; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            long lag = 0;
            for (var e : admin.listOffsets(latest).all().get(5, TimeUnit.SECONDS).entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                lag += e.getValue().offset() - (c == null ? 0 : c.offset());
            }
            return lag;
        } catch (Exception e) {
            return -1;
        }
    }

    /** Flink's REST API of the MiniCluster: the executor's requestsInFlight gauge, source back-pressure, restarts. */
    private record Rest(int port, String jobId) {
        JsonNode get(String path) throws Exception {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(response.body());
        }

        String vertex(String namePart) throws Exception {
            for (JsonNode v : get("/jobs/" + jobId).get("vertices")) {
                if (v.get("name").asText().contains(namePart)) {
                    return v.get("id").asText();
                }
            }
            throw new IllegalStateException("no vertex named *" + namePart + "*");
        }

        /** Sum (or mean) over the subtasks of the metrics whose ids end with {@code suffix}; -1 while not yet reported. */
        double vertexMetric(String namePart, String suffix, boolean mean) {
            try {
                String base = "/jobs/" + jobId + "/vertices/" + vertex(namePart) + "/metrics";
                List<String> ids = new ArrayList<>();
                for (JsonNode m : get(base)) {
                    if (m.get("id").asText().endsWith(suffix)) {
                        ids.add(m.get("id").asText());
                    }
                }
                if (ids.isEmpty()) {
                    return -1;
                }
                double sum = 0;
                for (JsonNode m : get(base + "?get=" + String.join(",", ids))) {
                    sum += m.get("value").asDouble();
                }
                return mean ? sum / ids.size() : sum;
            } catch (Exception e) {
                return -1;
            }
        }

        long executorInFlight() {
            return (long) vertexMetric("executor", ".requestsInFlight", false);
        }

        /** The Kafka source's consumer positions, summed over the requests topic's partitions; -1 before reported. */
        long sourcePositions() {
            return (long) vertexMetric("kafka-requests", ".currentOffset", false);
        }

        double sourceBackPressuredMsPerS() {
            return vertexMetric("kafka-requests", ".backPressuredTimeMsPerSecond", true);
        }

        long numRestarts() throws Exception {
            for (JsonNode m : get("/jobs/" + jobId + "/metrics?get=numRestarts")) {
                return m.get("value").asLong();
            }
            throw new IllegalStateException("no numRestarts metric");
        }
    }

    /** Reads the results topic (committed records) on its own thread into a shared list. */
    private static final class ResultReader implements AutoCloseable {
        private final Thread thread;
        private final List<InferenceResult> into;
        private volatile boolean running = true;

        ResultReader(KafkaBroker broker, String topic, List<InferenceResult> into) {
            this.into = into;
            this.thread = new Thread(() -> {
                AvroBinary<InferenceResult> codec = new AvroBinary<>(InferenceResult.getClassSchema());
                try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(
                        KafkaClients.consumer(broker.bootstrapServers(), "overload-read-" + topic))) {
                    consumer.subscribe(List.of(topic));
                    while (running) {
                        for (var record : consumer.poll(java.time.Duration.ofMillis(200))) {
                            into.add(codec.decode(record.value()));
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "overload-results");
            thread.start();
        }

        void awaitCount(int n, long timeoutMs) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (into.size() < n && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            Thread.sleep(2_000);             // duplicates, if any, would show up now
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(10_000);
        }
    }
}
