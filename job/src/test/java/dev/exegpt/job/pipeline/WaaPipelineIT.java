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
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/**
 * WAA through the job on a MiniCluster: encoder and decoder groups as separate operators, the state carried between
 * them by Flink, giving the same tokens as RRA on one group, for T5 and OPT alike.
 */
class WaaPipelineIT {

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void waaShouldAnswerLikeRra(Architecture arch) throws Exception {
        Path model = Files.createDirectories(Path.of("target", "models", "waa-it-" + arch.name().toLowerCase()));
        CheckpointWriter.writeRandom(model, ModelSize.TINY.config(arch), 21);
        List<RawRecord> raw = new ArrayList<>();
        AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        for (int i = 0; i < 16; i++) {
            InferenceRequest r = InferenceRequest.newBuilder().setRequestId("w" + i).setTask("S")
                    .setPromptText("Document " + i + " says " + "words ".repeat(1 + i % 5)).setMaxNewTokens(1 + i % 6)
                    .setIgnoreEos(true).build();
            raw.add(new RawRecord(r.getRequestId().getBytes(StandardCharsets.UTF_8), codec.encode(r), "", -1, -1,
                    System.currentTimeMillis()));
        }
        Map<String, InferenceResult> waa = run(model, raw, SchedulePolicy.WAA_C);
        Map<String, InferenceResult> rra = run(model, raw, SchedulePolicy.RRA);
        assertEquals(16, waa.size());
        for (InferenceResult r : waa.values()) {
            assertEquals(rra.get(r.getRequestId()).getOutputTokenIds(), r.getOutputTokenIds(), r.getRequestId());
            assertTrue(r.getExecutorId().startsWith("waa-c-"), r.getExecutorId());
            RequestLatency l = r.getLatency();
            assertEquals(l.getEndToEndMs(), l.getQueueMs() + l.getEncodeMs() + l.getDecodeMs(), 1e-6);
        }
        assertTrue(waa.values().stream().anyMatch(r -> r.getExecutorId().startsWith("waa-c-dec")),
                "requests with more than one token are decoded by the decoder group");
    }

    private static Map<String, InferenceResult> run(Path model, List<RawRecord> raw, SchedulePolicy policy) throws Exception {
        Path scheduleFile = Path.of("target", "waa-it-" + policy + ".json");
        ScheduleCodec.write(Schedule.newBuilder().setScheduleId("it-" + policy).setVersion(1).setPolicy(policy).setTask("S")
                .setEncodeBatchSize(3).setDecodeBatchSize(6).setDecodeIterationsPerEncode(2).setNumDevices(1).build(),
                scheduleFile);
        Map<String, String> settings = new HashMap<>();
        settings.put("model.dir", model.toString());
        settings.put("schedule.file", scheduleFile.toString());
        settings.put("executor.threads.per.device", "1");
        settings.put("executor.warmup.ms", "0");
        PipelineSettings pipeline = ExegptJob.settings(JobConfig.load(null, settings));
        Configuration flink = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, flink);
        ExegptPipeline.Streams out = ExegptPipeline.build(env.fromData(raw, TypeInformation.of(RawRecord.class)),
                env.fromData(TypeInformation.of(Schedule.class), pipeline.schedule()), pipeline, false);
        Map<String, InferenceResult> results = new HashMap<>();
        for (InferenceResult r : out.results().executeAndCollect(raw.size())) {
            assertEquals(null, results.put(r.getRequestId(), r), "answered once: " + r.getRequestId());
        }
        return results;
    }
}
