package dev.exegpt.operators.flink;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.flink.api.common.TaskInfo;

import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.DeviceLayout;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.schemas.Schedule;

/** Builds an executor subtask's engine from its spec and schedule (shared by the RRA and WAA executors). */
final class ExecutorEngines {

    private ExecutorEngines() {}

    /**
     * @param numGroupsPerReplica device groups one replica runs on this machine (1 for RRA, 2 for WAA's encoder and
     *                            decoder groups): the cores are divided among them unless the spec fixes the threads
     */
    static Engine open(ExecutorSpec spec, Schedule schedule, TaskInfo task, int numGroupsPerReplica) throws IOException {
        DeviceLayout layout = layoutOf(schedule);
        int threads = spec.threadsPerDevice() > 0 ? spec.threadsPerDevice()
                : Math.max(1, Runtime.getRuntime().availableProcessors() / task.getNumberOfParallelSubtasks()
                        / numGroupsPerReplica / layout.numDevices());
        EngineConfig config = new EngineConfig(Backend.parse(spec.backend()), layout, threads, spec.kvCacheCapacityBytes(),
                0, false, false);
        return Engine.load(Path.of(spec.modelDir()), config);
    }

    /** The device group's pipeline: numTpDevices / tpDegree stages of the TP degree, the other devices single. */
    static DeviceLayout layoutOf(Schedule s) {
        int numDevices = Math.max(1, s.getNumDevices());
        int tp = Math.max(1, s.getTpDegree());
        int numTpStages = Math.min(numDevices, Math.max(0, s.getNumTpDevices())) / tp;
        int numSingle = numDevices - numTpStages * tp;
        int[] degrees = new int[numTpStages + numSingle];
        for (int i = 0; i < degrees.length; i++) {
            degrees[i] = i < numTpStages ? tp : 1;
        }
        return DeviceLayout.rra(degrees);
    }

    static String executorId(Schedule s, String side, TaskInfo task) {
        return s.getPolicy().name().toLowerCase().replace('_', '-') + side + "-" + task.getIndexOfThisSubtask();
    }
}
