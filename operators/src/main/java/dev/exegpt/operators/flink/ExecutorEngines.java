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
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.schemas.Schedule;

/** Builds an executor subtask's engine from its spec and schedule (shared by the RRA and WAA executors). */
final class ExecutorEngines {

    private static final Logger LOG = LoggerFactory.getLogger(ExecutorEngines.class);

    private ExecutorEngines() {}

    /**
     * @param numGroupsPerReplica device groups one replica runs on this machine (1 for RRA, 2 for WAA's encoder and
     *                            decoder groups): the cores are divided among them unless the spec fixes the threads
     */
    static Engine open(ExecutorSpec spec, Schedule schedule, TaskInfo task, int numGroupsPerReplica) throws IOException {
        return open(spec, schedule, task, numGroupsPerReplica, List.of());
    }

    /**
     * @param externalGpuIndexes the "index" of each GPU Flink offers this task ({@code getExternalResourceInfos("gpu")});
     *                           empty in a MiniCluster, where the spec's configured indexes apply (GpuAssignment)
     */
    static Engine open(ExecutorSpec spec, Schedule schedule, TaskInfo task, int numGroupsPerReplica,
                       List<String> externalGpuIndexes) throws IOException {
        DeviceLayout layout = layoutOf(schedule);
        int threads = spec.threadsPerDevice() > 0 ? spec.threadsPerDevice()
                : Math.max(1, Runtime.getRuntime().availableProcessors() / task.getNumberOfParallelSubtasks()
                        / numGroupsPerReplica / layout.numDevices());
        Backend backend = Backend.parse(spec.backend());
        int gpu = 0;
        if (backend != Backend.CPU) {
            CudaProbe.Result probe = CudaProbe.probe();
            gpu = GpuAssignment.pick(externalGpuIndexes, spec.gpuIndexes(), task.getIndexOfThisSubtask(), probe.numDevices());
            if (probe.available()) LOG.info("executor subtask {}: GPU {}", task.getIndexOfThisSubtask(), gpu);
        }
        EngineConfig config = new EngineConfig(backend, layout, threads, spec.kvCacheCapacityBytes(), 0, false, false, gpu);
        return Engine.load(Path.of(spec.modelDir()), config);
    }

    /** The device group's pipeline: numTpDevices / tpDegree stages of the TP degree, the other devices single. */
    static DeviceLayout layoutOf(Schedule s) {
        return DeviceLayout.rra(Policies.stageDegrees(s));
    }

    static String executorId(Schedule s, String side, TaskInfo task) {
        return s.getPolicy().name().toLowerCase().replace('_', '-') + side + "-" + task.getIndexOfThisSubtask();
    }
}
