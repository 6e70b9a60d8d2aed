package dev.exegpt.operators.flink;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.api.common.TaskInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.exegpt.operators.core.GpuAssignment;
import dev.exegpt.runtime.cuda.CudaProbe;

import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.DeviceLayout;
import dev.exegpt.operators.runner.Policies;
import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.schemas.Schedule;

/** Builds an executor subtask's engine from its spec and schedule (shared by the RRA and WAA executors). */
final class ExecutorEngines {

    private static final Logger LOG = LoggerFactory.getLogger(ExecutorEngines.class);

    private ExecutorEngines() {}

    /** An engine for the device group of {@code role}; the cores are divided among the replica's devices unless the spec fixes the threads. */
    static Engine open(ExecutorSpec spec, Schedule schedule, TaskInfo task, Role role) throws IOException {
        return open(spec, schedule, task, role, List.of());
    }

    /**
     * @param externalGpuIndexes the "index" of each GPU Flink offers this task ({@code getExternalResourceInfos("gpu")});
     *                           empty in a MiniCluster, where the spec's configured indexes apply (GpuAssignment)
     */
    static Engine open(ExecutorSpec spec, Schedule schedule, TaskInfo task, Role role, List<String> externalGpuIndexes)
            throws IOException {
        DeviceLayout layout = layoutOf(schedule, role);
        int threads = spec.threadsPerDevice() > 0 ? spec.threadsPerDevice()
                : Math.max(1, Runtime.getRuntime().availableProcessors() / task.getNumberOfParallelSubtasks()
                        / devicesPerReplica(schedule, role));
        Backend backend = Backend.parse(spec.backend());
        int gpu = 0;
        if (backend != Backend.CPU) {
            CudaProbe.Result probe = CudaProbe.probe();
            gpu = GpuAssignment.pick(externalGpuIndexes, spec.gpuIndexes(), task.getIndexOfThisSubtask(), probe.numDevices());
            if (probe.available()) LOG.info("executor subtask {}: GPU {}", task.getIndexOfThisSubtask(), gpu);
        }
        EngineConfig config = new EngineConfig(backend, layout, threads, spec.kvCacheCapacityBytes(),
                numMicroBatches(schedule, role, layout), false, false, gpu);
        LOG.info("executor subtask {} ({}): engine layout {}, {} kernel thread(s) per device", task.getIndexOfThisSubtask(), role,
                layout, threads);
        return Engine.load(Path.of(spec.modelDir()), config);
    }

    /**
     * Devices one replica runs on this machine, its cores divided among them: the group's for FULL, the encoder's and
     * the decoder's together under WAA and DISAGGREGATED (a 1 + 3 split of four cores gives each device one core).
     */
    static int devicesPerReplica(Schedule schedule, Role role) {
        if (role == Role.FULL) {
            return layoutOf(schedule, role).numDevices();
        }
        return layoutOf(schedule, Role.ENCODER).numDevices() + layoutOf(schedule, Role.DECODER).numDevices();
    }

    /**
     * The pipeline of the group that plays {@code role} (Policies.stageDegrees): the whole group for RRA and the
     * single-group baselines, the schedule's encoder or decoder devices under WAA and DISAGGREGATED.
     */
    static DeviceLayout layoutOf(Schedule s, Role role) {
        return DeviceLayout.rra(Policies.stageDegrees(s, role));
    }

    /**
     * Micro-batches a step is split into: a WAA decoder with a planned micro-batch B_m splits its decode batch B_D into
     * ceil(B_D / B_m), at most one per stage (PAPER.md §5.2); otherwise the engine's default, one per stage.
     */
    static int numMicroBatches(Schedule s, Role role, DeviceLayout layout) {
        int bm = s.getDecodeMicroBatchSize();
        if (role != Role.DECODER || bm <= 0 || s.getDecodeBatchSize() <= 0) {
            return 0;
        }
        int stages = layout.encoderStageDegrees().length;
        return Math.max(1, Math.min(stages, (s.getDecodeBatchSize() + bm - 1) / bm));
    }

    static String executorId(Schedule s, String side, TaskInfo task) {
        return s.getPolicy().name().toLowerCase().replace('_', '-') + side + "-" + task.getIndexOfThisSubtask();
    }
}
