package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.KafkaBroker;
import dev.exegpt.job.kafka.KafkaBrokerExtension;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/**
 * The streaming job end to end on a real broker and a Flink MiniCluster with a real (tiny, random) OPT model: every
 * valid request gets exactly one result with consistent latencies, every bad record one dead letter with its reason,
 * a schedule published mid-run is adopted without losing a request, audit windows are written, and the executors'
 * metrics are served by config.yaml's Prometheus reporter with the values the run implies.
 */
@ExtendWith(KafkaBrokerExtension.class)
class StreamingJobIT {

    private static final int NUM_VALID = 40;

    @Test
    void shouldAnswerEveryValidRequestOnceAndDeadLetterEveryBadOne(KafkaBroker broker) throws Exception {
        Path model = Files.createDirectories(Path.of("target", "models", "streaming-it-opt"));
        CheckpointWriter.writeRandom(model, ModelSize.TINY.config(Architecture.OPT), 5);
        Map<String, String> topics = new HashMap<>();
        for (String t : Topics.all()) {
            topics.put(t, broker.freshTopic(t));
        }
        Properties p = new Properties();
        p.setProperty("kafka.bootstrap", broker.bootstrapServers());
        p.setProperty("kafka.group.id", "it-" + System.nanoTime());
        p.setProperty("topic.requests", topics.get(Topics.REQUESTS));
        p.setProperty("topic.results", topics.get(Topics.RESULTS));
        p.setProperty("topic.deadletter", topics.get(Topics.DEAD_LETTER));
        p.setProperty("topic.audit", topics.get(Topics.AUDIT));
        p.setProperty("topic.schedules", topics.get(Topics.SCHEDULES));
        p.setProperty("model.dir", model.toString());
        p.setProperty("model.backend", "cpu");
        p.setProperty("executor.threads.per.device", "1");
        p.setProperty("executor.warmup.ms", "0");
        p.setProperty("schedule.encode.batch", "4");
        p.setProperty("schedule.decode.iterations", "3");
        p.setProperty("task.slo.ms.summarization", "60000");
        p.setProperty("audit.window.ms", "1000");
        JobConfig config = JobConfig.load(null, toMap(p));

        Configuration flink = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));
        flink.setString("execution.checkpointing.interval", "1s");
        int metricsPort = freePort();                       // config.yaml's Prometheus reporter, on a port of our own
        flink.setString("metrics.reporter.prom.port", Integer.toString(metricsPort));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, flink);
        ExegptJob.addStreamingJob(env, config, ExegptJob.settings(config));
        JobClient job = env.executeAsync("streaming-it");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(broker.bootstrapServers(), "it"))) {
            AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
            String requests = topics.get(Topics.REQUESTS);
            for (int i = 0; i < NUM_VALID; i++) {
                if (i == NUM_VALID / 2) {
                    Schedule v2 = Schedule.newBuilder().setScheduleId("manual-continuous").setVersion(2)
                            .setPolicy(SchedulePolicy.CONTINUOUS).setEncodeBatchSize(4).setDecodeBatchSize(8).build();
                    producer.send(new ProducerRecord<>(topics.get(Topics.SCHEDULES), new AvroBinary<Schedule>(Schedule.getClassSchema()).encode(v2))).get();
                    Thread.sleep(500);
                }
                send(producer, requests, codec, valid("ok-" + i, 3 + i % 6));
            }
            List<byte[]> bad = List.of(
                    "not avro at all".getBytes(StandardCharsets.UTF_8),
                    codec.encode(InferenceRequest.newBuilder(valid("bad-task", 4)).setTask("poetry").build()),
                    codec.encode(InferenceRequest.newBuilder(valid("bad-max", 4)).setMaxNewTokens(0).build()),
                    codec.encode(InferenceRequest.newBuilder(valid("bad-slo", 4)).setSloLatencyMs(-5L).build()),
                    codec.encode(InferenceRequest.newBuilder(valid("bad-prompt", 4)).setPromptText("   ").build()),
                    codec.encode(InferenceRequest.newBuilder(valid("bad-long", 4)).setPromptTokenIds(java.util.Collections.nCopies(200, 7)).build()),
                    codec.encode(InferenceRequest.newBuilder(valid("bad-deadline", 4)).setDeadlineEpochMs(1L).build()),
                    codec.encode(valid("ok-0", 3)));                                           // a duplicate id
            for (byte[] value : bad) {
                producer.send(new ProducerRecord<>(requests, "bad".getBytes(StandardCharsets.UTF_8), value)).get();
            }
        }

        List<InferenceResult> results = JobIt.readAll(broker, topics.get(Topics.RESULTS), InferenceResult.getClassSchema(), NUM_VALID);
        List<DeadLetter> deadLetters = JobIt.readAll(broker, topics.get(Topics.DEAD_LETTER), DeadLetter.getClassSchema(), 8);
        List<AuditWindow> audit = JobIt.readAll(broker, topics.get(Topics.AUDIT), AuditWindow.getClassSchema(), 1);
        PrometheusText metrics = PrometheusText.scrape(metricsPort);
        Files.writeString(Path.of("target", "streaming-it-metrics.txt"), metrics.text());      // to read after a failure
        job.cancel().get();

        Set<String> ids = new TreeSet<>();
        for (InferenceResult r : results) {
            assertTrue(ids.add(r.getRequestId()), "answered twice: " + r.getRequestId());
            int expected = 3 + Integer.parseInt(r.getRequestId().substring(3)) % 6;
            assertEquals(expected, r.getNumOutputTokens(), r.getRequestId());
            RequestLatency l = r.getLatency();
            assertEquals(l.getEndToEndMs(), l.getQueueMs() + l.getEncodeMs() + l.getDecodeMs(), 1.0, "parts add up within 1 ms");
            assertTrue(l.getQueueMs() >= 0 && l.getTtftMs() <= l.getEndToEndMs());
            assertEquals(60_000L, r.getSloLatencyMs(), "the task's SLO applies");
            assertEquals(1, r.getAttempt());
        }
        assertEquals(NUM_VALID, ids.size(), "every valid request answered exactly once");
        assertTrue(results.stream().anyMatch(r -> r.getScheduleVersion() == 2), "the schedule published mid-run is adopted");

        Map<String, String> reasons = new HashMap<>();
        for (DeadLetter d : deadLetters) {
            reasons.put(d.getRequestId() == null ? "(undecodable)" : d.getRequestId(), d.getStage() + ": " + d.getReason());
            if (d.getStage().equals("deduplicate")) {
                assertEquals("", d.getSourceTopic(), "a duplicate is re-encoded after validation: no Kafka position");
            } else {
                assertEquals(topics.get(Topics.REQUESTS), d.getSourceTopic(), "the dead letter names where the record was");
                assertTrue(d.getSourceOffset() >= 0 && d.getSourcePartition() >= 0);
            }
            assertTrue(d.getRawValue() != null && d.getRawValue().remaining() > 0, "the original bytes are kept");
        }
        assertEquals(8, deadLetters.size(), "every bad record exactly once: " + reasons);
        assertTrue(reasons.get("(undecodable)").startsWith("decode: value is not an Avro InferenceRequest"), reasons.toString());
        assertTrue(reasons.get("bad-task").contains("task 'poetry' is unknown"), reasons.toString());
        assertTrue(reasons.get("bad-max").contains("maxNewTokens is 0"), reasons.toString());
        assertTrue(reasons.get("bad-slo").contains("sloLatencyMs is -5"), reasons.toString());
        assertTrue(reasons.get("bad-prompt").contains("prompt is empty"), reasons.toString());
        assertTrue(reasons.get("bad-long").contains("prompt has 200 tokens"), reasons.toString());
        assertTrue(reasons.get("bad-deadline").contains("deadlineEpochMs 1 is not after"), reasons.toString());
        assertTrue(reasons.get("ok-0").startsWith("deduplicate: duplicate requestId 'ok-0'"), reasons.toString());

        assertTrue(audit.get(0).getNumRequests() > 0 && audit.get(0).getTask().equals("summarization"), audit.toString());
        assertExecutorMetrics(metrics);
    }

    /** The executors' metrics as Prometheus scraped them while the job ran, with the values this run implies. */
    private static void assertExecutorMetrics(PrometheusText metrics) {
        String all = metrics.names("exegpt").toString();
        double answered = metrics.named("_exegpt_results", "").stream().mapToDouble(PrometheusText.Sample::value).sum();
        assertEquals(NUM_VALID, answered, 0.0, "results counted once each over the executors: " + all);
        for (PrometheusText.Sample met : metrics.named("_exegpt_sloMet", "")) {   // per executor subtask
            double missed = metrics.named("_exegpt_sloMissed", met.labels()).get(0).value();
            double count = metrics.named("_exegpt_results", met.labels()).get(0).value();
            assertEquals(count, met.value() + missed, 0.0, "every result had the task's SLO: " + met.labels());
            double attainment = metrics.named("_exegpt_sloAttainment", met.labels()).get(0).value();
            assertEquals(count == 0 ? Double.NaN : met.value() / count, attainment, 1e-9, "attainment = met / answered");
        }
        for (String histogram : List.of("endToEndMs", "ttftMs")) {
            List<PrometheusText.Sample> p99 = metrics.named("_exegpt_" + histogram, "quantile=\"0.99\"");
            assertTrue(!p99.isEmpty(), histogram + " p99 exported: " + all);
            assertTrue(p99.stream().anyMatch(x -> x.value() > 0 && x.value() < 60_000), histogram + " p99 in (0, 60 s): " + p99);
        }
        List<PrometheusText.Sample> encode = metrics.named("_exegpt_encodeBatchSizes", "quantile=\"0.5\"");
        assertTrue(!encode.isEmpty() && encode.stream().allMatch(x -> Double.isNaN(x.value()) || x.value() >= 1 && x.value() <= 4),
                "encode batches of 1..4 (B_E 4): " + encode);
        assertTrue(!metrics.named("_exegpt_decodeBatchSizes", "quantile=\"0.5\"").isEmpty(), all);
        List<PrometheusText.Sample> depth = metrics.named("_exegpt_queueDepth", "");
        assertTrue(!depth.isEmpty() && depth.stream().allMatch(x -> x.value() >= 0 && x.value() <= NUM_VALID), "queue depth: " + depth);
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static InferenceRequest valid(String id, int maxNew) {
        return InferenceRequest.newBuilder().setRequestId(id).setTask("summarization")
                .setPromptText("The quick brown fox jumps over the lazy dog " + id).setMaxNewTokens(maxNew).setIgnoreEos(true)
                .build();
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, String topic, AvroBinary<InferenceRequest> codec,
                             InferenceRequest r) throws Exception {
        producer.send(new ProducerRecord<>(topic, r.getRequestId().getBytes(StandardCharsets.UTF_8), codec.encode(r))).get();
    }

    private static Map<String, String> toMap(Properties p) {
        Map<String, String> m = new HashMap<>();
        p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
        return m;
    }
}
