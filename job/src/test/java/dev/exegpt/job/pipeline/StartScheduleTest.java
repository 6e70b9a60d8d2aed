package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/** The job's start schedule: a vLLM V0 one runs; a V1 one is refused before the job starts, in one line. */
class StartScheduleTest {

    private static Schedule vllm(SchedulePolicy policy) {
        return Schedule.newBuilder().setScheduleId("start-" + policy).setVersion(1).setPolicy(policy).setEncodeBatchSize(8)
                .setDecodeBatchSize(8).setMaxNumSeqs(8).setMaxNumBatchedTokens(512).build();
    }

    @Test
    void aVllmV1StartScheduleIsRefusedWithItsReasonAndV0Runs(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("opt");
        CheckpointWriter.writeRandom(model, ModelSize.TINY.config(Architecture.OPT), 3);
        Path v0 = dir.resolve("v0.json"), v1 = dir.resolve("v1.json");
        ScheduleCodec.write(vllm(SchedulePolicy.VLLM_V0), v0);
        ScheduleCodec.write(vllm(SchedulePolicy.VLLM_V1), v1);
        PipelineSettings ok = ExegptJob.settings(JobConfig.load(null, Map.of("model.dir", model.toString(), "schedule.file",
                v0.toString())));
        assertEquals(SchedulePolicy.VLLM_V0, ok.schedule().getPolicy());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExegptJob.settings(
                JobConfig.load(null, Map.of("model.dir", model.toString(), "schedule.file", v1.toString()))));
        assertTrue(e.getMessage().startsWith("schedule start-VLLM_V1: VLLM_V1 prefills prompts in chunks"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
