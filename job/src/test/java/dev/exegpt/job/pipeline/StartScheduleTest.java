package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
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

/**
 * The job's start schedule: vLLM V0 runs on every model, V1 (chunked prefill) on a decoder-only one; an encoder-decoder
 * model's job refuses V1 before it starts, in one line.
 */
class StartScheduleTest {

    private static Schedule vllm(SchedulePolicy policy) {
        return Schedule.newBuilder().setScheduleId("start-" + policy).setVersion(1).setPolicy(policy).setEncodeBatchSize(8)
                .setDecodeBatchSize(8).setMaxNumSeqs(8).setMaxNumBatchedTokens(512).build();
    }

    @Test
    void vllmV1StartsOnADecoderOnlyModelAndAnEncoderDecoderOneRefusesItWithItsReason(@TempDir Path dir) throws Exception {
        Path opt = dir.resolve("opt"), t5 = dir.resolve("t5");
        CheckpointWriter.writeRandom(opt, ModelSize.TINY.config(Architecture.OPT), 3);
        CheckpointWriter.writeRandom(t5, ModelSize.TINY.config(Architecture.T5), 3);
        Path v0 = dir.resolve("v0.json"), v1 = dir.resolve("v1.json");
        ScheduleCodec.write(vllm(SchedulePolicy.VLLM_V0), v0);
        ScheduleCodec.write(vllm(SchedulePolicy.VLLM_V1), v1);
        for (Path model : List.of(opt, t5)) {
            assertEquals(SchedulePolicy.VLLM_V0, ExegptJob.settings(JobConfig.load(null, Map.of("model.dir", model.toString(),
                    "schedule.file", v0.toString()))).schedule().getPolicy());
        }
        assertEquals(SchedulePolicy.VLLM_V1, ExegptJob.settings(JobConfig.load(null, Map.of("model.dir", opt.toString(),
                "schedule.file", v1.toString()))).schedule().getPolicy());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExegptJob.settings(
                JobConfig.load(null, Map.of("model.dir", t5.toString(), "schedule.file", v1.toString()))));
        assertTrue(e.getMessage().startsWith("schedule start-VLLM_V1: chunked prefill (VLLM_V1) runs decoder-only models; T5"),
                e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    /** The executor holds what the start schedule needs, or executor.max.in.flight where a job will adopt larger batches. */
    @Test
    void theExecutorsCapacityComesFromTheStartScheduleOrTheKey(@TempDir Path dir) throws Exception {
        Path opt = dir.resolve("opt");
        CheckpointWriter.writeRandom(opt, ModelSize.TINY.config(Architecture.OPT), 3);
        Path v1 = dir.resolve("v1.json");
        ScheduleCodec.write(vllm(SchedulePolicy.VLLM_V1), v1);       // B_E = B_D = max_num_seqs = 8
        PipelineSettings auto = ExegptJob.settings(JobConfig.load(null, Map.of("model.dir", opt.toString(), "schedule.file",
                v1.toString())));
        assertEquals(2 * 8 + 4 * 8, auto.asyncCapacity());
        PipelineSettings set = ExegptJob.settings(JobConfig.load(null, Map.of("model.dir", opt.toString(), "schedule.file",
                v1.toString(), "executor.max.in.flight", "300")));
        assertEquals(300, set.asyncCapacity());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobConfig.load(null,
                Map.of("model.dir", opt.toString(), "executor.max.in.flight", "-1")));
        assertTrue(e.getMessage().contains("executor.max.in.flight"), e.getMessage());
    }
}
