package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.Predicate;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
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
import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/**
 * A hostile producer against the running job (real broker, MiniCluster, tiny OPT model): one test per class of
 * poison record (answers too large for their topic, allocation bombs, unusable schedules, aborted transactions,
 * timestamps from the future, invisible ids), each with several payloads and valid requests right behind them. Every
 * record is answered exactly once (a result or a dead letter, or nothing for an aborted transaction), the requests
 * behind the poison are answered on time, the job never restarts (Flink's numRestarts stays 0, every result is of
 * attempt 1). One job serves all the tests; the results topic allows records of 64 KiB only and the dead-letter
 * topic 1 MiB (Kafka's default), while the broker takes requests of up to 16 MiB.
 */
@ExtendWith(KafkaBrokerExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PoisonRecordIT {

    private static final AvroBinary<InferenceRequest> CODEC = new AvroBinary<>(InferenceRequest.getClassSchema());
    private static final int RESULTS_MAX_BYTES = 64 * 1024;
    private static final int DEAD_LETTER_MAX_BYTES = 1024 * 1024;
    /** A request behind the poison must be answered within this of its arrival: the tiny model takes well under 1 s. */
    private static final double ON_TIME_MS = 20_000;

    private KafkaBroker broker;
    private Map<String, String> topics;
    private JobClient job;
    private int restPort;
    private KafkaProducer<byte[], byte[]> producer;
    private Reader<InferenceResult> results;
    private Reader<DeadLetter> deadLetters;

    @BeforeAll
    void startJob(KafkaBroker broker) throws Exception {
        this.broker = broker;
        Path model = Files.createDirectories(Path.of("target", "models", "poison-it-opt"));
        CheckpointWriter.writeRandom(model, ModelSize.TINY.config(Architecture.OPT), 5);
        topics = new HashMap<>();
        for (String t : Topics.all()) {
            topics.put(t, t + "." + java.util.UUID.randomUUID());
        }
        try (Admin admin = broker.admin()) {
            List<NewTopic> wanted = new ArrayList<>();
            for (String t : Topics.all()) {
                NewTopic topic = new NewTopic(topics.get(t), t.equals(Topics.SCHEDULES) ? 1 : 4, (short) 1);
                if (t.equals(Topics.RESULTS)) {
                    topic.configs(Map.of("max.message.bytes", Integer.toString(RESULTS_MAX_BYTES)));
                } else if (t.equals(Topics.DEAD_LETTER)) {
                    topic.configs(Map.of("max.message.bytes", Integer.toString(DEAD_LETTER_MAX_BYTES)));
                }
                wanted.add(topic);
            }
            admin.createTopics(wanted).all().get();
        }
        JobConfig config = JobConfig.load(null, JobIt.settings(broker, topics, model));
        try (ServerSocket socket = new ServerSocket(0)) {
            restPort = socket.getLocalPort();
        }
        Configuration flink = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));
        flink.setString("execution.checkpointing.interval", "1s");
        flink.set(RestOptions.PORT, restPort);
        flink.setString("metrics.fetcher.update-interval", "1000");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, flink);
        ExegptJob.addStreamingJob(env, config, ExegptJob.settings(config));
        job = env.executeAsync("poison-record-it");
        Properties p = KafkaClients.producer(broker.bootstrapServers(), "poison-it");
        p.setProperty("max.request.size", Integer.toString(16 << 20));
        p.setProperty("buffer.memory", Integer.toString(64 << 20));
        producer = new KafkaProducer<>(p);
        results = new Reader<>(broker, topics.get(Topics.RESULTS), InferenceResult.getClassSchema());
        deadLetters = new Reader<>(broker, topics.get(Topics.DEAD_LETTER), DeadLetter.getClassSchema());
    }

    @AfterAll
    void stopJob() throws Exception {
        try {
            assertEquals(0, numRestarts(), "the job never restarted");
        } finally {
            if (producer != null) producer.close();
            if (results != null) results.close();
            if (deadLetters != null) deadLetters.close();
            if (job != null) job.cancel().get();
        }
    }

    // ---- 1. answers that do not fit their topic ----

    @Test
    @Order(1)
    void answersTooLargeForTheirTopicShouldBeWrittenCutWithTheirSizeAndHash() throws Exception {
        byte[] hugeRandom = new byte[15 << 20];
        new Random(1).nextBytes(hugeRandom);
        byte[] hugePrompt = CODEC.encode(valid("big-prompt").setPromptText("lorem ipsum ".repeat(350_000)).build());
        byte[] hugeKey = new byte[8 << 20];
        java.util.Arrays.fill(hugeKey, (byte) 'k');
        System.arraycopy("big-key:".getBytes(StandardCharsets.UTF_8), 0, hugeKey, 0, 8);
        send("big-random", hugeRandom, System.currentTimeMillis());
        send("big-prompt", hugePrompt, System.currentTimeMillis());
        producer.send(new ProducerRecord<>(topics.get(Topics.REQUESTS), null, System.currentTimeMillis(), hugeKey,
                "x".getBytes(StandardCharsets.UTF_8))).get();
        Map<String, String> wideMetadata = new HashMap<>();
        for (int i = 0; i < 64; i++) {
            wideMetadata.put("field-" + i, "v".repeat(1000));
        }
        sendRequest(valid("big-metadata").setMetadata(wideMetadata));
        sendRequest(valid("big-metadata-utf8").setMetadata(Map.of("note", "東".repeat(21_500))));
        List<String> after = sendValid("after-big", 3);

        DeadLetter random = awaitDeadLetter(d -> keyStartsWith(d, "big-random"));
        assertEquals((long) hugeRandom.length, random.getRawValueSizeBytes());
        assertEquals(sha256(hugeRandom), random.getRawValueSha256(), "the hash names the original value");
        assertTrue(random.getTruncated(), "15 MiB cannot go whole to a 1 MiB topic");
        assertTrue(random.getRawValue().remaining() < DEAD_LETTER_MAX_BYTES);
        assertEquals("decode", random.getStage());
        DeadLetter prompt = awaitDeadLetter(d -> keyStartsWith(d, "big-prompt"));
        assertEquals("validate", prompt.getStage());
        assertTrue(prompt.getReason().contains("promptText has 4200000 characters"), prompt.getReason());
        assertTrue(prompt.getTruncated());
        assertEquals((long) hugePrompt.length, prompt.getRawValueSizeBytes());
        DeadLetter key = awaitDeadLetter(d -> keyStartsWith(d, "big-key:"));
        assertTrue(key.getTruncated());
        assertEquals((long) hugeKey.length, key.getRawKeySizeBytes());
        assertTrue(key.getRawKey().remaining() < DEAD_LETTER_MAX_BYTES, "the key was cut too");
        for (String id : List.of("big-metadata", "big-metadata-utf8")) {
            InferenceResult r = awaitResult(id);
            assertTrue(r.getTruncated(), id + " is over the results topic's 64 KiB");
            assertTrue(r.getTruncatedReason().contains("metadata entries were dropped"), r.getTruncatedReason());
            assertEquals(FinishReason.MAX_TOKENS, r.getFinishReason(), "the answer itself is whole");
            assertEquals(3, r.getNumOutputTokens());
        }
        assertOnTime(after);
        assertAnsweredOnce(List.of("big-random", "big-prompt", "big-key:", "big-metadata", "big-metadata-utf8"));
    }

    // ---- 2. a few bytes that declare gigabytes ----

    @Test
    @Order(2)
    void lengthsTheBytesCannotHoldShouldBeRefusedBeforeAnyAllocation() throws Exception {
        ByteArrayOutputStream idBomb = new ByteArrayOutputStream();
        varLong(idBomb, Integer.MAX_VALUE);                       // requestId: 2 GiB declared, 3 bytes present
        idBomb.writeBytes("abc".getBytes(StandardCharsets.UTF_8));
        ByteArrayOutputStream arrayBomb = requestHead("array-bomb");
        arrayBomb.write(0);                                        // promptText: null
        arrayBomb.write(2);                                        // promptTokenIds: the array branch
        varLong(arrayBomb, 1_000_000_000L);                        // a billion ints declared
        arrayBomb.write(0);
        ByteArrayOutputStream mapBomb = requestHead("map-bomb");
        mapBomb.write(0);                                          // promptText: null
        mapBomb.write(0);                                          // promptTokenIds: null
        varLong(mapBomb, 8);                                       // maxNewTokens
        mapBomb.write(0);                                          // ignoreEos
        mapBomb.write(0);                                          // sloLatencyMs: null
        mapBomb.write(0);                                          // deadlineEpochMs: null
        mapBomb.write(0);                                          // clientSentEpochMs: null
        varLong(mapBomb, -2_000_000_000L);                         // metadata: 2e9 entries in a block of ...
        varLong(mapBomb, Long.MAX_VALUE / 2);                      // ... 4.6e18 bytes
        byte[] manyIds = CODEC.encode(valid("many-ids").setPromptText(null)
                .setPromptTokenIds(Collections.nCopies(1_000_000, 7)).build());
        Map<String, byte[]> bombs = new LinkedHashMap<>();
        bombs.put("id-bomb", idBomb.toByteArray());
        bombs.put("array-bomb", arrayBomb.toByteArray());
        bombs.put("map-bomb", mapBomb.toByteArray());
        bombs.put("many-ids", manyIds);
        long sentAt = System.currentTimeMillis();
        for (Map.Entry<String, byte[]> b : bombs.entrySet()) {
            send(b.getKey(), b.getValue(), sentAt);
        }
        List<String> after = sendValid("after-bomb", 3);
        Map<String, String> expected = Map.of(
                "id-bomb", "InferenceRequest.requestId declares 2147483647 bytes but 3 remain",
                "array-bomb", "promptTokenIds declares 1000000000 items",
                "map-bomb", "metadata declares a block of",
                "many-ids", "promptTokenIds declares 1000000 items: expected at most 65536");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            DeadLetter d = awaitDeadLetter(x -> keyStartsWith(x, e.getKey()));
            assertEquals("decode", d.getStage(), e.getKey());
            assertTrue(d.getReason().contains(e.getValue()), e.getKey() + ": " + d.getReason());
            assertTrue(d.getFailedEpochMs() - sentAt < ON_TIME_MS, e.getKey() + " was refused at once");
        }
        assertOnTime(after);
        assertAnsweredOnce(new ArrayList<>(bombs.keySet()));
    }

    // ---- 3. schedules the job cannot adopt ----

    @Test
    @Order(3)
    void aScheduleTheExecutorsCannotRunShouldBeRefusedAndTheRunningOneKept() throws Exception {
        String schedules = topics.get(Topics.SCHEDULES);
        Map<String, Schedule.Builder> bad = new LinkedHashMap<>();
        bad.put("sched-unknown-policy", schedule(5).setPolicy(SchedulePolicy.UNKNOWN));
        bad.put("sched-zero-batch", schedule(5).setEncodeBatchSize(0));
        bad.put("sched-waa-on-rra-job", schedule(5).setPolicy(SchedulePolicy.WAA_C));
        bad.put("sched-absurd-batch", schedule(5).setDecodeBatchSize(Integer.MAX_VALUE));
        AvroBinary<Schedule> codec = new AvroBinary<>(Schedule.getClassSchema());
        for (Map.Entry<String, Schedule.Builder> e : bad.entrySet()) {
            producer.send(new ProducerRecord<>(schedules, e.getKey().getBytes(StandardCharsets.UTF_8),
                    codec.encode(e.getValue().build()))).get();
        }
        producer.send(new ProducerRecord<>(schedules, "sched-garbage".getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef})).get();
        List<String> before = sendValid("under-v1", 3);
        Map<String, String> reasons = Map.of(
                "sched-unknown-policy", "policy UNKNOWN is not one the executors run",
                "sched-zero-batch", "encodeBatchSize is 0",
                "sched-waa-on-rra-job", "needs separate encoder and decoder groups",
                "sched-absurd-batch", "decodeBatchSize is 2147483647",
                "sched-garbage", "value is not an Avro Schedule");
        for (Map.Entry<String, String> e : reasons.entrySet()) {
            DeadLetter d = awaitDeadLetter(x -> keyStartsWith(x, e.getKey()));
            assertEquals("schedule", d.getStage());
            assertTrue(d.getReason().contains(e.getValue()), e.getKey() + ": " + d.getReason());
            assertEquals(schedules, d.getSourceTopic());
        }
        for (String id : before) {
            assertEquals(1, awaitResult(id).getScheduleVersion(), "the running schedule stays");
        }
        // A good one is still adopted, and an older one after it is refused.
        producer.send(new ProducerRecord<>(schedules, "sched-good".getBytes(StandardCharsets.UTF_8),
                codec.encode(schedule(7).setEncodeBatchSize(2).build()))).get();
        InferenceResult adopted = null;
        for (int i = 0; i < 60 && adopted == null; i++) {
            String id = sendValid("probe-v7-" + i, 1).get(0);
            InferenceResult r = awaitResult(id);
            adopted = r.getScheduleVersion() == 7 ? r : null;
        }
        assertNotNull(adopted, "the valid schedule v7 was adopted");
        producer.send(new ProducerRecord<>(schedules, "sched-stale".getBytes(StandardCharsets.UTF_8),
                codec.encode(schedule(6).build()))).get();
        assertTrue(awaitDeadLetter(x -> keyStartsWith(x, "sched-stale")).getReason()
                .contains("version 6 is not newer than v7"));
        assertOnTime(sendValid("after-sched", 3));
    }

    // ---- 5. records of aborted transactions ----

    @Test
    @Order(4)
    void requestsOfAnAbortedTransactionShouldNeverBeAnswered() throws Exception {
        Properties p = KafkaClients.producer(broker.bootstrapServers(), "poison-it-tx");
        p.setProperty("transactional.id", "poison-it-" + System.nanoTime());
        p.setProperty("enable.idempotence", "true");
        p.setProperty("acks", "all");
        String requests = topics.get(Topics.REQUESTS);
        try (KafkaProducer<byte[], byte[]> tx = new KafkaProducer<>(p)) {
            tx.initTransactions();
            tx.beginTransaction();
            for (String id : List.of("aborted-valid", "aborted-valid-2")) {
                tx.send(new ProducerRecord<>(requests, id.getBytes(StandardCharsets.UTF_8), CODEC.encode(valid(id).build())));
            }
            tx.send(new ProducerRecord<>(requests, "aborted-garbage".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3}));
            tx.send(new ProducerRecord<>(requests, "aborted-bad".getBytes(StandardCharsets.UTF_8),
                    CODEC.encode(valid("aborted-bad").setTask("poetry").build())));
            tx.flush();
            tx.abortTransaction();
            tx.beginTransaction();
            for (String id : List.of("committed-1", "committed-2", "committed-3")) {
                tx.send(new ProducerRecord<>(requests, id.getBytes(StandardCharsets.UTF_8), CODEC.encode(valid(id).build())));
            }
            tx.commitTransaction();
        }
        List<String> after = sendValid("after-tx", 3);
        for (String id : List.of("committed-1", "committed-2", "committed-3")) {
            assertEquals(FinishReason.MAX_TOKENS, awaitResult(id).getFinishReason());
        }
        assertOnTime(after);
        Thread.sleep(3_000);
        for (String id : List.of("aborted-valid", "aborted-valid-2", "aborted-garbage", "aborted-bad")) {
            assertEquals(0, results.count(r -> r.getRequestId().equals(id)), id + " was never run");
            assertEquals(0, deadLetters.count(d -> keyStartsWith(d, id)), id + " was never read");
        }
    }

    // ---- 6. timestamps from the future ----

    @Test
    @Order(5)
    void aTimestampFromTheFutureShouldBeMeasuredFromTheJobsArrivalAndFlagged() throws Exception {
        long now = System.currentTimeMillis();
        Map<String, Long> aheadMs = new LinkedHashMap<>();
        aheadMs.put("future-10s", 10_000L);
        aheadMs.put("future-5min", 300_000L);
        aheadMs.put("future-50min", 3_000_000L);
        for (Map.Entry<String, Long> e : aheadMs.entrySet()) {
            send(e.getKey(), CODEC.encode(valid(e.getKey()).build()), now + e.getValue());
        }
        // SLO of 1 ms: measured from a future timestamp it would come out negative, and "met".
        send("future-tight-slo", CODEC.encode(valid("future-tight-slo").setSloLatencyMs(1L).build()), now + 600_000);
        List<String> after = sendValid("after-future", 3);
        for (Map.Entry<String, Long> e : aheadMs.entrySet()) {
            InferenceResult r = awaitResult(e.getKey());
            Long skew = r.getLatency().getClockSkewMs();
            assertNotNull(skew, e.getKey() + " is flagged");
            assertTrue(Math.abs(skew - e.getValue()) < 10_000, e.getKey() + ": skew " + skew);
            assertTrue(r.getLatency().getEndToEndMs() >= 0 && r.getLatency().getEndToEndMs() < ON_TIME_MS,
                    e.getKey() + ": end to end " + r.getLatency().getEndToEndMs());
            assertTrue(r.getLatency().getArrivedEpochMs() < now + 10_000, "measured from the job's arrival");
            assertEquals(true, r.getSloMet(), "60 s SLO, met on the job's clock");
        }
        InferenceResult tight = awaitResult("future-tight-slo");
        assertEquals(false, tight.getSloMet(), "never met because of the skew: " + tight.getLatency());
        assertTrue(tight.getLatency().getEndToEndMs() > 1);
        for (String id : after) {
            assertNull(awaitResult(id).getLatency().getClockSkewMs(), "clocks that agree are not flagged");
        }
        assertOnTime(after);
    }

    // ---- 7. ids nobody can see ----

    @Test
    @Order(6)
    void anIdOfInvisibleCharactersShouldBeRefused() throws Exception {
        List<String> ids = List.of("\u200b", "\u3164\u3164", "\u2800", "\ufeff\u200d", "\u00a0\u2060");
        for (int i = 0; i < ids.size(); i++) {
            send("invisible-" + i, CODEC.encode(valid(ids.get(i)).build()), System.currentTimeMillis());
        }
        List<String> after = sendValid("after-invisible", 3);
        for (int i = 0; i < ids.size(); i++) {
            String key = "invisible-" + i;
            DeadLetter d = awaitDeadLetter(x -> keyStartsWith(x, key));
            assertEquals("validate", d.getStage());
            assertTrue(d.getReason().contains("has no visible character"), d.getReason());
            assertEquals(0, results.count(r -> r.getRequestId().equals(ids.get(key.charAt(key.length() - 1) - '0'))));
        }
        assertOnTime(after);
        assertAnsweredOnce(ids.stream().map(id -> "invisible-" + ids.indexOf(id)).toList());
    }

    // ---- harness ----

    private static InferenceRequest.Builder valid(String id) {
        return InferenceRequest.newBuilder().setRequestId(id).setTask("summarization")
                .setPromptText("The quick brown fox jumps over the lazy dog " + id).setMaxNewTokens(3).setIgnoreEos(true);
    }

    private static Schedule.Builder schedule(int version) {
        return Schedule.newBuilder().setScheduleId("it-" + version).setVersion(version).setPolicy(SchedulePolicy.RRA)
                .setEncodeBatchSize(4).setDecodeBatchSize(8).setDecodeIterationsPerEncode(3);
    }

    private void send(String key, byte[] value, long timestampEpochMs) throws Exception {
        producer.send(new ProducerRecord<>(topics.get(Topics.REQUESTS), null, timestampEpochMs,
                key.getBytes(StandardCharsets.UTF_8), value)).get();
    }

    private void sendRequest(InferenceRequest.Builder b) throws Exception {
        InferenceRequest r = b.build();
        send(r.getRequestId(), CODEC.encode(r), System.currentTimeMillis());
    }

    private List<String> sendValid(String prefix, int n) throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(prefix + "-" + i);
            sendRequest(valid(prefix + "-" + i));
        }
        return ids;
    }

    private static ByteArrayOutputStream requestHead(String id) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] b = id.getBytes(StandardCharsets.UTF_8);
        varLong(out, b.length);
        out.writeBytes(b);
        byte[] task = "summarization".getBytes(StandardCharsets.UTF_8);
        varLong(out, task.length);
        out.writeBytes(task);
        return out;
    }

    private static void varLong(ByteArrayOutputStream out, long v) {
        long z = (v << 1) ^ (v >> 63);
        while ((z & ~0x7FL) != 0) {
            out.write((int) ((z & 0x7F) | 0x80));
            z >>>= 7;
        }
        out.write((int) z);
    }

    private static boolean keyStartsWith(DeadLetter d, String prefix) {
        if (d.getRawKey() == null) {
            return false;
        }
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        ByteBuffer k = d.getRawKey().duplicate();
        if (k.remaining() < p.length) {
            return false;
        }
        byte[] head = new byte[p.length];
        k.get(head);
        return java.util.Arrays.equals(head, p) && (d.getRawKey().remaining() == p.length || prefix.endsWith(":"));
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private InferenceResult awaitResult(String id) throws InterruptedException {
        return results.await(r -> r.getRequestId().equals(id), id);
    }

    private DeadLetter awaitDeadLetter(Predicate<DeadLetter> which) throws InterruptedException {
        return deadLetters.await(which, "a dead letter");
    }

    /** Valid requests behind poison: answered in full, on time, by the first attempt. */
    private void assertOnTime(List<String> ids) throws Exception {
        for (String id : ids) {
            InferenceResult r = awaitResult(id);
            assertEquals(FinishReason.MAX_TOKENS, r.getFinishReason(), id + ": " + r.getErrorMessage());
            assertTrue(r.getLatency().getEndToEndMs() < ON_TIME_MS, id + " took " + r.getLatency().getEndToEndMs() + " ms");
            assertEquals(1, r.getAttempt(), id + ": no restart");
        }
        assertEquals(0, numRestarts(), "the job never restarted");
    }

    /** Each key got exactly one answer, a result (by request id) or a dead letter (by key). */
    private void assertAnsweredOnce(List<String> keys) throws InterruptedException {
        Thread.sleep(2_000);                                      // a second answer, if any, would show by now
        for (String key : keys) {
            long n = results.count(r -> r.getRequestId().equals(key)) + deadLetters.count(d -> keyStartsWith(d, key));
            assertEquals(1, n, key + " answered " + n + " times");
        }
    }

    /** Flink's own count of the job's restarts (its metric fetcher may take a few seconds to have it). */
    private long numRestarts() throws Exception {
        String body = "";
        for (int i = 0; i < 100; i++) {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + restPort + "/jobs/" + job.getJobID() + "/metrics?get=numRestarts")).build(),
                    HttpResponse.BodyHandlers.ofString());
            body = response.body();
            for (JsonNode m : new ObjectMapper().readTree(body)) {
                return m.get("value").asLong();
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no numRestarts metric: " + body);
    }

    /** Reads a topic (committed records) on its own thread into a list. */
    private static final class Reader<T extends org.apache.avro.specific.SpecificRecord> implements AutoCloseable {
        private final List<T> records = Collections.synchronizedList(new ArrayList<>());
        private final Thread thread;
        private volatile boolean running = true;

        Reader(KafkaBroker broker, String topic, org.apache.avro.Schema schema) {
            thread = new Thread(() -> {
                AvroBinary<T> codec = new AvroBinary<>(schema);
                try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                        KafkaClients.consumer(broker.bootstrapServers(), "poison-read-" + topic))) {
                    consumer.subscribe(List.of(topic));
                    while (running) {
                        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                            records.add(codec.decode(r.value()));
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "poison-reader-" + topic);
            thread.setDaemon(true);
            thread.start();
        }

        T await(Predicate<T> which, String what) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline) {
                synchronized (records) {
                    for (T r : records) {
                        if (which.test(r)) {
                            return r;
                        }
                    }
                }
                Thread.sleep(100);
            }
            throw new AssertionError("no answer for " + what + " within 60 s");
        }

        long count(Predicate<T> which) {
            synchronized (records) {
                return records.stream().filter(which).count();
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(10_000);
        }
    }
}
