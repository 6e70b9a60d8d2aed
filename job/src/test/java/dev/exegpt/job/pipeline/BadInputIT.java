package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.api.common.JobStatus;
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
import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/**
 * Bad input against the running job (real broker, MiniCluster, tiny OPT model): raw bytes of many kinds of bad record,
 * sent with a plain byte-array producer, each with its defined answer (a dead letter whose stage and reason say what is
 * wrong, or a result with the expected finish reason and SLO verdict), valid requests before, between and after them,
 * no restart of the job, and every record answered exactly once: sent = results + dead letters.
 */
@ExtendWith(KafkaBrokerExtension.class)
class BadInputIT {

    /** What one kind of record must get back. */
    private record Expected(String stage, String reason, FinishReason finish, Boolean sloMet) {
        static Expected dead(String stage, String reason) {
            return new Expected(stage, reason, null, null);
        }

        static Expected result(FinishReason finish, Boolean sloMet) {
            return new Expected(null, null, finish, sloMet);
        }

        boolean isDeadLetter() {
            return stage != null;
        }
    }

    /** One record to send: its kind (also its Kafka key), value bytes (null: a tombstone), timestamp and answer. */
    private record Kind(String name, byte[] value, long timestampEpochMs, Expected expected) {}

    private static final AvroBinary<InferenceRequest> CODEC = new AvroBinary<>(InferenceRequest.getClassSchema());

    private static InferenceRequest.Builder valid(String id) {
        return InferenceRequest.newBuilder().setRequestId(id).setTask("summarization")
                .setPromptText("The quick brown fox jumps over the lazy dog " + id).setMaxNewTokens(3).setIgnoreEos(true);
    }

    private static byte[] avro(InferenceRequest.Builder b) {
        return CODEC.encode(b.build());
    }

    /** Encodes the request, then overwrites {@code marker}'s bytes in the encoding with bytes that are not UTF-8. */
    private static byte[] withBrokenUtf8(InferenceRequest.Builder b, String marker) {
        byte[] bytes = avro(b);
        byte[] m = marker.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + m.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + m.length, m, 0, m.length)) {
                bytes[i] = (byte) 0xC3;        // a lead byte followed by ASCII: invalid
                bytes[i + 2] = (byte) 0xFF;    // never valid in UTF-8
                return bytes;
            }
        }
        throw new AssertionError("marker " + marker + " not in the encoding");
    }

    /** An Avro record of another schema (no requestId field at all). */
    private static byte[] withoutRequestIdField() throws Exception {
        Schema schema = new Schema.Parser().parse("""
                {"type": "record", "name": "InferenceRequest", "namespace": "other",
                 "fields": [{"name": "task", "type": "string"}, {"name": "maxNewTokens", "type": "int"}]}""");
        GenericRecord r = new GenericData.Record(schema);
        r.put("task", "summarization");
        r.put("maxNewTokens", 4);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(r, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static List<Kind> kinds(long now) throws Exception {
        String decode = "decode";
        String validate = "validate";
        byte[] good = avro(valid("x"));
        byte[] random = new byte[96];
        new Random(7).nextBytes(random);
        byte[] trailing = Arrays.copyOf(good, good.length + 3);
        byte[] schedule = new AvroBinary<Schedule>(Schedule.getClassSchema()).encode(Schedule.newBuilder()
                .setScheduleId("not-a-request").setVersion(1).setPolicy(SchedulePolicy.RRA).setEncodeBatchSize(4)
                .setDecodeBatchSize(8).build());
        List<Kind> k = new ArrayList<>();
        // Not an InferenceRequest at all: the decode stage.
        k.add(new Kind("tombstone (null value)", null, now, Expected.dead(decode, "empty record value")));
        k.add(new Kind("zero bytes", new byte[0], now, Expected.dead(decode, "empty record value")));
        k.add(new Kind("whitespace bytes", " \t\n ".getBytes(StandardCharsets.UTF_8), now,
                Expected.dead(decode, "value is not an Avro InferenceRequest")));
        k.add(new Kind("plain text", "summarize this please".getBytes(StandardCharsets.UTF_8), now,
                Expected.dead(decode, "value is not an Avro InferenceRequest")));
        k.add(new Kind("JSON instead of Avro", "{\"requestId\":\"j1\",\"task\":\"summarization\",\"maxNewTokens\":3}"
                .getBytes(StandardCharsets.UTF_8), now, Expected.dead(decode, "value is not an Avro InferenceRequest")));
        k.add(new Kind("random bytes", random, now, Expected.dead(decode, "value is not an Avro InferenceRequest")));
        k.add(new Kind("truncated Avro", Arrays.copyOf(good, good.length / 2), now,
                Expected.dead(decode, "the bytes end inside the record")));
        k.add(new Kind("Avro with trailing bytes", trailing, now, Expected.dead(decode, "trailing bytes after the record")));
        k.add(new Kind("wrong schema (a Schedule)", schedule, now, Expected.dead(decode, "value is not an Avro InferenceRequest")));
        k.add(new Kind("missing requestId field", withoutRequestIdField(), now,
                Expected.dead(decode, "value is not an Avro InferenceRequest")));
        // Decodes, but a field is wrong: the validate stage.
        k.add(new Kind("blank id", avro(valid("  ")), now, Expected.dead(validate, "requestId is empty")));
        k.add(new Kind("id with a control character", avro(valid("ctl\u0007id")), now,
                Expected.dead(validate, "has control characters or bytes that are not UTF-8")));
        k.add(new Kind("id not UTF-8", withBrokenUtf8(valid("idMARK"), "MARK"), now,
                Expected.dead(validate, "has control characters or bytes that are not UTF-8")));
        k.add(new Kind("id too long", avro(valid("L".repeat(300))), now, Expected.dead(validate, "requestId has 300 characters")));
        k.add(new Kind("prompt not UTF-8", withBrokenUtf8(valid("bad-utf8").setPromptText("caf MARK au lait"), "MARK"), now,
                Expected.dead(validate, "promptText has bytes that are not UTF-8")));
        k.add(new Kind("unknown task", avro(valid("bad-task").setTask("poetry")), now, Expected.dead(validate, "task 'poetry' is unknown")));
        k.add(new Kind("empty task", avro(valid("empty-task").setTask("")), now, Expected.dead(validate, "task '' is unknown")));
        k.add(new Kind("zero max tokens", avro(valid("max-0").setMaxNewTokens(0)), now, Expected.dead(validate, "maxNewTokens is 0")));
        k.add(new Kind("negative max tokens", avro(valid("max-neg").setMaxNewTokens(-3)), now, Expected.dead(validate, "maxNewTokens is -3")));
        k.add(new Kind("absurd max tokens", avro(valid("max-big").setMaxNewTokens(Integer.MAX_VALUE)), now,
                Expected.dead(validate, "maxNewTokens is " + Integer.MAX_VALUE + ": expected 1..128")));
        k.add(new Kind("zero SLO", avro(valid("slo-0").setSloLatencyMs(0L)), now, Expected.dead(validate, "sloLatencyMs is 0")));
        k.add(new Kind("negative SLO", avro(valid("slo-neg").setSloLatencyMs(-5L)), now, Expected.dead(validate, "sloLatencyMs is -5")));
        k.add(new Kind("absurd SLO", avro(valid("slo-big").setSloLatencyMs(Long.MAX_VALUE)), now,
                Expected.dead(validate, "sloLatencyMs is " + Long.MAX_VALUE)));
        k.add(new Kind("deadline in the past", avro(valid("deadline-past").setDeadlineEpochMs(now - 60_000)), now,
                Expected.dead(validate, "is not after the request's arrival")));
        k.add(new Kind("no prompt", avro(valid("no-prompt").setPromptText(null)), now, Expected.dead(validate, "prompt is empty")));
        k.add(new Kind("empty prompt", avro(valid("empty-prompt").setPromptText("")), now, Expected.dead(validate, "prompt is empty")));
        k.add(new Kind("whitespace prompt", avro(valid("blank-prompt").setPromptText(" \t\r\n ")), now,
                Expected.dead(validate, "prompt is empty")));
        k.add(new Kind("empty token ids", avro(valid("empty-ids").setPromptText(null).setPromptTokenIds(List.of())), now,
                Expected.dead(validate, "prompt is empty")));
        k.add(new Kind("token id past the vocabulary", avro(valid("id-big").setPromptTokenIds(List.of(5, ModelSize.VOCAB_SIZE))), now,
                Expected.dead(validate, "promptTokenIds[1] is " + ModelSize.VOCAB_SIZE)));
        k.add(new Kind("negative token id", avro(valid("id-neg").setPromptTokenIds(List.of(-1))), now,
                Expected.dead(validate, "promptTokenIds[0] is -1")));
        k.add(new Kind("prompt over the limit", avro(valid("too-long").setPromptTokenIds(Collections.nCopies(200, 7))), now,
                Expected.dead(validate, "prompt has 200 tokens: expected at most 128")));
        k.add(new Kind("prompt plus output over the positions", avro(valid("too-much")
                .setPromptTokenIds(Collections.nCopies(100, 7)).setMaxNewTokens(40)), now,
                Expected.dead(validate, "plus maxNewTokens (40) is 140: expected at most the model's 129 positions")));
        // Valid, and answered with a result that says how it went.
        k.add(new Kind("duplicate id (first)", avro(valid("dup")), now, Expected.result(FinishReason.MAX_TOKENS, true)));
        k.add(new Kind("duplicate id (second)", avro(valid("dup")), now, Expected.dead("deduplicate", "duplicate requestId 'dup'")));
        k.add(new Kind("deadline that passes in transit", avro(valid("deadline-soon").setDeadlineEpochMs(now + 1)), now,
                Expected.result(FinishReason.DEADLINE, false)));
        k.add(new Kind("SLO of 1 ms", avro(valid("slo-1ms").setSloLatencyMs(1L)), now, Expected.result(FinishReason.MAX_TOKENS, false)));
        k.add(new Kind("prompt exactly at the limit", avro(valid("at-limit").setPromptTokenIds(Collections.nCopies(128, 9))
                .setMaxNewTokens(1)), now, Expected.result(FinishReason.MAX_TOKENS, true)));
        k.add(new Kind("non-ASCII prompt", avro(valid("unicode").setPromptText("Résumé: 東京は晴れ 🌤️, naïve café")), now,
                Expected.result(FinishReason.MAX_TOKENS, true)));
        k.add(new Kind("token ids and text both set", avro(valid("both").setPromptTokenIds(List.of(11, 12, 13))), now,
                Expected.result(FinishReason.MAX_TOKENS, true)));
        k.add(new Kind("metadata and a generous deadline", avro(valid("meta").setMetadata(Map.of("k", "v"))
                .setDeadlineEpochMs(now + 3_600_000)), now, Expected.result(FinishReason.MAX_TOKENS, true)));
        return k;
    }

    @Test
    void everyKindOfBadRecordShouldGetItsDefinedAnswerWithoutARestart(KafkaBroker broker) throws Exception {
        Path model = Files.createDirectories(Path.of("target", "models", "bad-input-it-opt"));
        CheckpointWriter.writeRandom(model, ModelSize.TINY.config(Architecture.OPT), 5);
        Map<String, String> topics = new HashMap<>();
        for (String t : Topics.all()) {
            topics.put(t, broker.freshTopic(t));
        }
        JobConfig config = JobConfig.load(null, JobIt.settings(broker, topics, model));
        Configuration flink = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));
        flink.setString("execution.checkpointing.interval", "1s");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, flink);
        ExegptJob.addStreamingJob(env, config, ExegptJob.settings(config));
        JobClient job = env.executeAsync("bad-input-it");

        long now = System.currentTimeMillis();
        List<Kind> kinds = kinds(now);
        int numValid = 12;
        Map<String, Kind> byKey = new LinkedHashMap<>();
        String requests = topics.get(Topics.REQUESTS);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(broker.bootstrapServers(), "bad-it"))) {
            int sentValid = 0;
            for (int i = 0; i < kinds.size(); i++) {
                if (i % 4 == 0 && sentValid < numValid) {
                    JobIt.send(producer, requests, avro(valid("ok-" + sentValid++)));      // valid ones between the bad
                }
                Kind kind = kinds.get(i);
                byKey.put(kind.name(), kind);
                producer.send(new ProducerRecord<>(requests, null, kind.timestampEpochMs(),
                        kind.name().getBytes(StandardCharsets.UTF_8), kind.value())).get();
            }
            while (sentValid < numValid) {
                JobIt.send(producer, requests, avro(valid("ok-" + sentValid++)));           // and after all of them
            }
        }
        long numExpectedResults = numValid + kinds.stream().filter(k -> !k.expected().isDeadLetter()).count();
        long numExpectedDead = kinds.stream().filter(k -> k.expected().isDeadLetter()).count();
        List<InferenceResult> results = JobIt.readAll(broker, topics.get(Topics.RESULTS), InferenceResult.getClassSchema(),
                (int) numExpectedResults);
        List<DeadLetter> deadLetters = JobIt.readAll(broker, topics.get(Topics.DEAD_LETTER), DeadLetter.getClassSchema(),
                (int) numExpectedDead);
        JobStatus status = job.getJobStatus().get();
        job.cancel().get();

        // Every kind's answer, as a table in the test output.
        Map<String, String> answers = new LinkedHashMap<>();
        for (DeadLetter d : deadLetters) {
            String key = d.getStage().equals("deduplicate") ? "duplicate id (second)"
                    : new String(d.getRawKey().array(), StandardCharsets.UTF_8);
            String previous = answers.put(key, "dead letter, " + d.getStage() + ": " + d.getReason());
            assertEquals(null, previous, "answered twice: " + key);
            Expected e = byKey.get(key).expected();
            assertTrue(e.isDeadLetter(), key + " should get a result, got " + answers.get(key));
            assertEquals(e.stage(), d.getStage(), key + ": " + d.getReason());
            assertTrue(d.getReason().contains(e.reason()), key + ": reason was " + d.getReason());
        }
        Map<String, InferenceResult> resultsById = new HashMap<>();
        for (InferenceResult r : results) {
            assertEquals(null, resultsById.put(r.getRequestId(), r), "answered twice: " + r.getRequestId());
            assertEquals(1, r.getAttempt(), "no restart: every result comes from the first attempt");
        }
        for (Kind kind : kinds) {
            if (kind.expected().isDeadLetter()) {
                continue;
            }
            String id = CODEC.decode(kind.value()).getRequestId();
            InferenceResult r = resultsById.get(id);
            assertTrue(r != null, kind.name() + ": no result (dead letters: " + answers + ")");
            answers.put(kind.name(), "result, " + r.getFinishReason() + ", SLO met " + r.getSloMet()
                    + (r.getErrorMessage() == null ? "" : ": " + r.getErrorMessage()));
            assertEquals(kind.expected().finish(), r.getFinishReason(), kind.name());
            assertEquals(kind.expected().sloMet(), r.getSloMet(), kind.name());
        }
        System.out.printf("bad-input: %d kinds of record (%d dead letters, %d results) and %d valid requests%n",
                kinds.size(), numExpectedDead, kinds.size() - numExpectedDead, numValid);
        kinds.forEach(kind -> System.out.printf("  %-40s -> %s%n", kind.name(), answers.get(kind.name())));
        for (int i = 0; i < numValid; i++) {
            assertEquals(FinishReason.MAX_TOKENS, resultsById.get("ok-" + i).getFinishReason(), "ok-" + i);
        }
        int numSent = kinds.size() + numValid;
        assertEquals(numSent, results.size() + deadLetters.size(), "sent = results + dead letters: " + answers);
        assertEquals(numExpectedDead, deadLetters.size());
        assertTrue(kinds.size() >= 20, "at least 20 kinds");
        assertEquals(JobStatus.RUNNING, status, "bad input never fails the job");
    }
}
