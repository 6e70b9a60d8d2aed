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
import java.util.Properties;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * Batch mode over a file gives the same answers as the streaming pipeline over the same requests (greedy decoding
 * is deterministic and batching does not change a sequence's tokens), on a real tiny T5.
 */
class BatchModeIT {

    @Test
    void batchModeShouldAnswerLikeStreaming() throws Exception {
        Path model = Files.createDirectories(Path.of("target", "models", "batch-it-t5"));
        CheckpointWriter.writeRandom(model, ModelSize.TINY.config(Architecture.T5), 9);
        Path input = Files.createTempFile(Path.of("target"), "batch-", ".jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            lines.add("{\"requestId\":\"d" + i + "\",\"task\":\"wmt\",\"prompt\":\"Sentence number " + i
                    + " to translate, with a few more words.\",\"maxNewTokens\":" + (2 + i % 7) + "}");
        }
        lines.add("{\"requestId\":\"broken\"");
        lines.add("{\"requestId\":\"d3\",\"task\":\"wmt\",\"prompt\":\"again\",\"maxNewTokens\":2}");
        Files.write(input, lines);
        Properties p = new Properties();
        p.setProperty("model.dir", model.toString());
        p.setProperty("executor.threads.per.device", "1");
        p.setProperty("executor.warmup.ms", "0");
        p.setProperty("schedule.encode.batch", "5");
        p.setProperty("schedule.decode.iterations", "2");
        Map<String, String> overrides = new HashMap<>();
        p.stringPropertyNames().forEach(k -> overrides.put(k, p.getProperty(k)));
        PipelineSettings settings = ExegptJob.settings(JobConfig.load(null, overrides));
        Configuration flink = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));

        Map<String, List<Integer>> batch = new HashMap<>();
        int batchDead = 0;
        try (CloseableIterator<JobOutput> it = BatchJob.run(StreamExecutionEnvironment.createLocalEnvironment(1, flink), input, settings)) {
            while (it.hasNext()) {
                JobOutput o = it.next();
                if (o.result() != null) {
                    assertEquals(null, batch.put(o.result().getRequestId(), o.result().getOutputTokenIds()), "answered once");
                } else {
                    batchDead++;
                }
            }
        }

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, flink);
        AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        List<RawRecord> raw = new ArrayList<>();
        for (String line : lines.subList(0, 24)) {
            InferenceRequest r = RequestJson.parse(line);
            raw.add(new RawRecord(r.getRequestId().getBytes(StandardCharsets.UTF_8), codec.encode(r), "", -1, -1,
                    System.currentTimeMillis()));
        }
        DataStream<Schedule> schedules = env.fromData(TypeInformation.of(Schedule.class), settings.schedule());
        ExegptPipeline.Streams out = ExegptPipeline.build(env.fromData(raw, TypeInformation.of(RawRecord.class)), schedules,
                settings, false);
        Map<String, List<Integer>> streaming = new HashMap<>();
        for (InferenceResult r : out.results().executeAndCollect(24)) {
            streaming.put(r.getRequestId(), r.getOutputTokenIds());
        }

        assertEquals(24, batch.size(), "every valid line answered");
        assertEquals(2, batchDead, "the broken line and the duplicate id are dead letters");
        assertEquals(streaming, batch, "batch and streaming give the same tokens for the same requests");
        assertTrue(batch.values().stream().allMatch(t -> !t.isEmpty()));
    }
}
