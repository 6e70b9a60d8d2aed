package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
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
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/**
 * Schedules over two (or three) devices through the job (real broker, MiniCluster, tiny T5; on the CPU backend a
 * device is a worker thread): RRA as a 2-stage pipeline and as one TP-2 group, WAA-C with one encoder and one decoder
 * device, WAA-M with one encoder device and a 2-stage decoder that splits its batch into micro-batches of B_m. Every
 * request is answered once with the tokens a single-device run gives it (greedy decoding), each result names the
 * layout that ran it, and a WAA schedule published mid-run is adopted by the encoder and the decoder side alike.
 */
@ExtendWith(KafkaBrokerExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultiDeviceIT {

    private static final int NUM_REQUESTS = 12;
    private KafkaBroker broker;
    private Path model;
    private Map<String, List<Integer>> reference;

    @BeforeAll
    void singleDeviceReference(KafkaBroker broker) throws Exception {
        this.broker = broker;
        model = Files.createDirectories(Path.of("target", "models", "multi-device-it-t5"));
        CheckpointWriter.writeRandom(model, ModelSize.TINY.config(Architecture.T5), 17);
        reference = new HashMap<>();
        for (InferenceResult r : run(schedule(SchedulePolicy.RRA).setNumDevices(1).build(), null).values()) {
            assertEquals("RRA[1]", r.getExecutedLayout());
            reference.put(r.getRequestId(), r.getOutputTokenIds());
        }
        assertEquals(NUM_REQUESTS, reference.size());
    }

    @Test
    void rraAsATwoStagePipeline() throws Exception {
        check(schedule(SchedulePolicy.RRA).setNumDevices(2).build(), "RRA[1, 1]", null);
    }

    @Test
    void rraAsOneTensorParallelGroupOfTwo() throws Exception {
        check(schedule(SchedulePolicy.RRA).setNumDevices(2).setTpDegree(2).setNumTpDevices(2).build(), "RRA[2]", null);
    }

    @Test
    void waaCWithOneEncoderAndOneDecoderDeviceAdoptingAScheduleMidRun() throws Exception {
        Schedule v1 = schedule(SchedulePolicy.WAA_C).setNumDevices(2).setNumEncoderDevices(1).setNumDecoderDevices(1).build();
        Schedule v2 = Schedule.newBuilder(v1).setVersion(2).setEncodeBatchSize(2).build();
        Map<String, InferenceResult> results = check(v1, "enc RRA[1] + dec RRA[1]", v2);
        long underV2 = results.values().stream().filter(r -> r.getScheduleVersion() == 2).count();
        assertTrue(underV2 >= NUM_REQUESTS / 2, "the second half ran under v2 on both sides: " + underV2);
    }

    @Test
    void waaMWithATwoStageDecoderInMicroBatches() throws Exception {
        check(schedule(SchedulePolicy.WAA_M).setNumDevices(3).setNumEncoderDevices(1).setNumDecoderDevices(2)
                .setDecodeBatchSize(6).setDecodeMicroBatchSize(2).build(), "enc RRA[1] + dec RRA[1, 1]", null);
    }

    private Map<String, InferenceResult> check(Schedule s, String layout, Schedule midRun) throws Exception {
        Map<String, InferenceResult> results = run(s, midRun);
        assertEquals(NUM_REQUESTS, results.size(), "every request answered once");
        for (InferenceResult r : results.values()) {
            assertEquals(reference.get(r.getRequestId()), r.getOutputTokenIds(), r.getRequestId() + " under " + layout);
            assertEquals(layout, r.getExecutedLayout(), r.getRequestId());
        }
        System.out.printf("%s %s: %d requests, tokens equal to one device, layout %s%n", s.getPolicy(), layout,
                results.size(), results.values().iterator().next().getExecutedLayout());
        return results;
    }

    private static Schedule.Builder schedule(SchedulePolicy policy) {
        return Schedule.newBuilder().setScheduleId("multi-" + policy).setVersion(1).setPolicy(policy).setTask("S")
                .setEncodeBatchSize(3).setDecodeBatchSize(6).setDecodeIterationsPerEncode(2);
    }

    private static InferenceRequest request(int i) {
        List<Integer> prompt = new ArrayList<>();
        for (int t = 0; t < 4 + i % 5; t++) {
            prompt.add(100 + 31 * i + t);
        }
        return InferenceRequest.newBuilder().setRequestId("m" + i).setTask("summarization").setPromptTokenIds(prompt)
                .setMaxNewTokens(2 + i % 5).setIgnoreEos(true).build();
    }

    /** Runs the requests under {@code s}; with {@code midRun}, publishes it after the first half and waits until it runs. */
    private Map<String, InferenceResult> run(Schedule s, Schedule midRun) throws Exception {
        Map<String, String> topics = new HashMap<>();
        for (String t : Topics.all()) {
            topics.put(t, broker.freshTopic(t));
        }
        Path scheduleFile = Path.of("target", "multi-device-it-" + s.getPolicy() + "-" + s.getNumDevices() + ".json");
        ScheduleCodec.write(s, scheduleFile);
        Map<String, String> settings = JobIt.settings(broker, topics, model);
        settings.put("schedule.file", scheduleFile.toString());
        JobConfig config = JobConfig.load(null, settings);
        Configuration flink = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));
        flink.setString("execution.checkpointing.interval", "1s");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, flink);
        ExegptJob.addStreamingJob(env, config, ExegptJob.settings(config));
        JobClient job = env.executeAsync("multi-device-it");
        AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        Map<String, InferenceResult> results = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(broker.bootstrapServers(), "multi"))) {
            int half = midRun == null ? NUM_REQUESTS : NUM_REQUESTS / 2;
            for (int i = 0; i < half; i++) {
                JobIt.send(producer, topics.get(Topics.REQUESTS), codec.encode(request(i)));
            }
            collect(results, topics, half);
            if (midRun != null) {
                producer.send(new ProducerRecord<>(topics.get(Topics.SCHEDULES), midRun.getScheduleId().getBytes(StandardCharsets.UTF_8),
                        new AvroBinary<Schedule>(Schedule.getClassSchema()).encode(midRun))).get();
                Thread.sleep(3_000);             // the dispatch adopts it from the broadcast stream
                for (int i = half; i < NUM_REQUESTS; i++) {
                    JobIt.send(producer, topics.get(Topics.REQUESTS), codec.encode(request(i)));
                }
                collect(results, topics, NUM_REQUESTS);
            }
        } finally {
            job.cancel().get();
        }
        return results;
    }

    private void collect(Map<String, InferenceResult> into, Map<String, String> topics, int count) throws Exception {
        List<InferenceResult> all = JobIt.readAll(broker, topics.get(Topics.RESULTS), InferenceResult.getClassSchema(), count);
        for (InferenceResult r : all) {
            InferenceResult previous = into.put(r.getRequestId(), r);
            assertTrue(previous == null || previous.getAttempt() == r.getAttempt() && previous.equals(r),
                    "answered once: " + r.getRequestId());
        }
    }
}
