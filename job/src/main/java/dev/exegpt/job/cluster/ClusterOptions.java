package dev.exegpt.job.cluster;

import java.nio.file.Path;
import java.util.Map;

/**
 * How to start a local standalone Flink session cluster.
 *
 * @param workDir               where the cluster keeps its generated configuration, logs, pid files and checkpoints
 * @param flinkConfDir          folder whose {@code config.yaml} is the base of the cluster's configuration
 * @param numTaskManagers       TaskManager JVMs to start
 * @param slotsPerTaskManager   task slots each TaskManager offers
 * @param restPort              the JobManager's REST port on 127.0.0.1; 0 picks a free one
 * @param taskManagerHeapMib    heap of each TaskManager JVM (framework 128 MiB + task heap), MiB
 * @param flinkLibDir           folder of Flink's jars (collected by the flink-cluster module); null finds it
 * @param startTimeoutMs        how long to wait for every TaskManager to register, ms
 * @param settings              Flink settings applied last (they win over config.yaml and the cluster's own)
 */
public record ClusterOptions(Path workDir, Path flinkConfDir, int numTaskManagers, int slotsPerTaskManager, int restPort,
                             int taskManagerHeapMib, Path flinkLibDir, long startTimeoutMs, Map<String, String> settings) {

    public static final int DEFAULT_REST_PORT = 8081;
    public static final int DEFAULT_TASK_MANAGER_HEAP_MIB = 1024;
    public static final long DEFAULT_START_TIMEOUT_MS = 90_000;

    public ClusterOptions {
        if (workDir == null) {
            throw new IllegalArgumentException("workDir must be set");
        }
        if (numTaskManagers < 1 || numTaskManagers > 64) {
            throw new IllegalArgumentException("numTaskManagers must be in [1, 64], got " + numTaskManagers);
        }
        if (slotsPerTaskManager < 1 || slotsPerTaskManager > 64) {
            throw new IllegalArgumentException("slotsPerTaskManager must be in [1, 64], got " + slotsPerTaskManager);
        }
        if (restPort < 0 || restPort > 65_535) {
            throw new IllegalArgumentException("restPort must be in [0, 65535], got " + restPort);
        }
        if (taskManagerHeapMib < 256) {
            throw new IllegalArgumentException("taskManagerHeapMib must be >= 256, got " + taskManagerHeapMib);
        }
        if (startTimeoutMs < 1_000) {
            throw new IllegalArgumentException("startTimeoutMs must be >= 1000, got " + startTimeoutMs);
        }
        settings = Map.copyOf(settings == null ? Map.of() : settings);
    }
}
