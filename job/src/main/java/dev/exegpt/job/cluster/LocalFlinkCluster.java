package dev.exegpt.job.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.exegpt.job.pipeline.ExegptJob;
import dev.exegpt.job.process.ChildProcesses;

/**
 * A standalone Flink session cluster on 127.0.0.1: one JobManager ({@code StandaloneSessionClusterEntrypoint}) and N
 * TaskManagers ({@code TaskManagerRunner}), each in its own JVM, started from the jars the {@code flink-cluster}
 * module collects, with {@code flink-conf/config.yaml} as the base of a configuration generated into
 * {@code <workDir>/conf} (ports, memory, a shared checkpoint folder under {@code <workDir>/checkpoints}).
 *
 * <p>Lifecycle: {@link #start} launches the JVMs and returns once every TaskManager has registered with the
 * JobManager (asked over REST). {@link #close} stops them (SIGTERM, then SIGKILL after a grace period). Each JVM has a
 * watchdog that stops it if this JVM dies without closing, so no Flink process outlives its owner; the pid of each is
 * written to {@code <workDir>/pids} for {@code exegpt cluster stop}.
 */
public final class LocalFlinkCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalFlinkCluster.class);
    private static final String LOOPBACK = ChildProcesses.LOOPBACK;
    private static final long STOP_GRACE_MS = 15_000;
    static final String JOB_MANAGER_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TASK_MANAGER_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    private static final int FRAMEWORK_HEAP_MIB = 128;

    /** What Flink's own distribution passes to every JVM on Java 17 (env.java.opts.all), plus the Vector API. */
    static final List<String> JVM_OPENS = List.of(
            "--add-modules", "jdk.incubator.vector",
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED",
            "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    private final ClusterOptions options;
    private final Path workDir;
    private final Path libDir;
    private final int restPort;
    private final Managed jobManager;
    private final List<Managed> taskManagers = new ArrayList<>();
    private final Thread shutdownHook;
    private int numStartedTaskManagers;

    /** A JVM this cluster started, with the watchdog that stops it if the owner dies. */
    private record Managed(String name, Process process, Process watchdog, Path log) {}

    private LocalFlinkCluster(ClusterOptions options, Path workDir, Path libDir, int restPort, Managed jobManager) {
        this.options = options;
        this.workDir = workDir;
        this.libDir = libDir;
        this.restPort = restPort;
        this.jobManager = jobManager;
        this.shutdownHook = new Thread(this::stopQuietly, "exegpt-flink-cluster-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts the JobManager and the TaskManagers and waits until all have registered; throws with their logs if not. */
    public static LocalFlinkCluster start(ClusterOptions options) throws IOException {
        Path workDir = options.workDir().toAbsolutePath();
        Path libDir = FlinkJars.libDir(options.flinkLibDir());
        for (String sub : List.of("conf", "log", "pids", "checkpoints")) {
            Files.createDirectories(workDir.resolve(sub));
        }
        int restPort = options.restPort() != 0 ? options.restPort() : ChildProcesses.freePort();
        ChildProcesses.checkPortFree("--rest-port", restPort, "another cluster");
        int rpcPort = ChildProcesses.freePort(restPort);
        Map<String, String> conf = configuration(options, workDir, restPort, rpcPort);
        Files.writeString(workDir.resolve("conf").resolve("config.yaml"), yaml(conf));
        Files.writeString(workDir.resolve("conf").resolve("log4j2.properties"), LOG4J2);

        long startNanos = System.nanoTime();
        Managed jm = launch(workDir, libDir, "jobmanager", List.of("-Xmx512m", "-Xms256m"), JOB_MANAGER_MAIN, List.of());
        LocalFlinkCluster cluster = new LocalFlinkCluster(options, workDir, libDir, restPort, jm);
        try {
            for (int i = 0; i < options.numTaskManagers(); i++) {
                cluster.startTaskManager();
            }
            cluster.awaitTaskManagers(options.numTaskManagers(), options.startTimeoutMs());
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw e;
        }
        LOG.info("Flink cluster ready at {} in {} ms: JobManager pid {}, {} TaskManager(s) x {} slots, config {}",
                cluster.restAddress(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), jm.process().pid(),
                options.numTaskManagers(), options.slotsPerTaskManager(), workDir.resolve("conf"));
        return cluster;
    }

    /** {@code 127.0.0.1:PORT} of the JobManager's REST endpoint, what {@code exegpt run --jobmanager} takes. */
    public String restAddress() {
        return LOOPBACK + ":" + restPort;
    }

    public ClusterRest rest() {
        return new ClusterRest(restAddress(), Duration.ofSeconds(5));
    }

    public Path workDir() {
        return workDir;
    }

    public long jobManagerPid() {
        return jobManager.process().pid();
    }

    /** Pids of the TaskManagers started so far that are still alive, in start order. */
    public synchronized List<Long> taskManagerPids() {
        return taskManagers.stream().filter(m -> m.process().isAlive()).map(m -> m.process().pid()).toList();
    }

    /** Pid of the live TaskManager with this {@code taskmanager.resource-id} ({@code taskmanager-N}), if any. */
    public synchronized OptionalLong taskManagerPid(String resourceId) {
        return taskManagers.stream().filter(m -> m.name().equals(resourceId) && m.process().isAlive())
                .mapToLong(m -> m.process().pid()).findFirst();
    }

    /** Starts one more TaskManager (after one was lost, or to add slots); returns its pid. */
    public synchronized long startTaskManager() throws IOException {
        int heap = options.taskManagerHeapMib();
        int index = ++numStartedTaskManagers;
        String name = "taskmanager-" + index;
        Managed tm = launch(workDir, libDir, name, List.of("-Xmx" + heap + "m", "-Xms" + heap + "m",
                        "-XX:MaxDirectMemorySize=" + DIRECT_MIB + "m", "-XX:MaxMetaspaceSize=" + METASPACE_MIB + "m"),
                TASK_MANAGER_MAIN, List.of("-Dtaskmanager.resource-id=" + name));
        taskManagers.add(tm);
        return tm.process().pid();
    }

    /** Waits until at least {@code count} TaskManagers are registered. */
    public void awaitTaskManagers(int count, long timeoutMs) throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        ClusterRest rest = rest();
        while (true) {
            checkAlive();
            try {
                if (rest.numTaskManagers() >= count) {
                    return;
                }
            } catch (IOException notYet) {
                // The REST endpoint is not up yet.
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IOException(count + " TaskManager(s) did not register within " + timeoutMs + " ms at "
                        + restAddress() + "; last lines of " + jobManager.log() + ":\n" + ChildProcesses.tail(jobManager.log(), 15));
            }
            ChildProcesses.sleep(200, "the Flink cluster");
        }
    }

    /** Blocks until the JobManager ends (for {@code exegpt cluster start}); returns its exit code. */
    public int awaitExit() throws InterruptedException {
        return jobManager.process().waitFor();
    }

    @Override
    public void close() {
        stopQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // The hook is running or has run.
        }
    }

    private void checkAlive() throws IOException {
        if (!jobManager.process().isAlive()) {
            throw new IOException("the JobManager exited with code " + jobManager.process().exitValue() + "; last lines of "
                    + jobManager.log() + ":\n" + ChildProcesses.tail(jobManager.log(), 15));
        }
    }

    private synchronized void stopQuietly() {
        List<Managed> all = new ArrayList<>(taskManagers);
        all.add(jobManager);
        for (Managed m : all) {
            m.process().destroy();
        }
        long deadline = System.currentTimeMillis() + STOP_GRACE_MS;
        for (Managed m : all) {
            try {
                if (!m.process().waitFor(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS)) {
                    LOG.warn("{} (pid {}) did not stop in {} ms; killing it", m.name(), m.process().pid(), STOP_GRACE_MS);
                    m.process().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                m.process().destroyForcibly();
                Thread.currentThread().interrupt();
            }
            m.watchdog().destroy();
            try {
                Files.deleteIfExists(workDir.resolve("pids").resolve(m.name() + ".pid"));
            } catch (IOException ignored) {
                // Only a stale pid file; 'exegpt cluster stop' checks what it kills.
            }
        }
    }

    /** The cluster's Flink configuration: config.yaml of {@code flinkConfDir}, then the local cluster's settings. */
    static Map<String, String> configuration(ClusterOptions options, Path workDir, int restPort, int rpcPort) {
        Configuration base = options.flinkConfDir() == null ? new Configuration()
                : ExegptJob.flinkConfiguration(options.flinkConfDir());
        Map<String, String> conf = new TreeMap<>(base.toMap());
        int taskHeap = options.taskManagerHeapMib() - FRAMEWORK_HEAP_MIB;
        Map<String, String> local = new LinkedHashMap<>();
        local.put("jobmanager.rpc.address", LOOPBACK);
        local.put("jobmanager.rpc.port", Integer.toString(rpcPort));
        local.put("jobmanager.bind-host", LOOPBACK);
        local.put("rest.address", LOOPBACK);
        local.put("rest.bind-address", LOOPBACK);
        local.put("rest.port", Integer.toString(restPort));
        local.put("taskmanager.host", LOOPBACK);
        local.put("taskmanager.bind-host", LOOPBACK);
        local.put("taskmanager.numberOfTaskSlots", Integer.toString(options.slotsPerTaskManager()));
        // Spread a job's slots over the TaskManagers, so that losing one TaskManager is a partial failure.
        local.put("taskmanager.load-balance.mode", "SLOTS");
        // A shared folder every JVM sees: a task restarted on another TaskManager restores from it.
        local.put("execution.checkpointing.dir", workDir.resolve("checkpoints").toUri().toString());
        // Notice a killed TaskManager within seconds (failed heartbeat RPCs), not after Flink's default 50 s.
        local.put("heartbeat.interval", "2s");
        local.put("heartbeat.timeout", "20s");
        // Flink's standalone scripts compute these with BashJavaUtils; a TaskManagerRunner needs them all explicitly.
        local.put("taskmanager.cpu.cores", "1.0");
        local.put("taskmanager.memory.framework.heap.size", FRAMEWORK_HEAP_MIB + "m");
        local.put("taskmanager.memory.task.heap.size", taskHeap + "m");
        local.put("taskmanager.memory.framework.off-heap.size", "128m");
        local.put("taskmanager.memory.task.off-heap.size", "64m");
        local.put("taskmanager.memory.network.min", "64m");
        local.put("taskmanager.memory.network.max", "64m");
        local.put("taskmanager.memory.managed.size", "0m");
        local.put("taskmanager.memory.jvm-metaspace.size", METASPACE_MIB + "m");
        local.put("taskmanager.memory.jvm-overhead.min", "192m");
        local.put("taskmanager.memory.jvm-overhead.max", "192m");
        conf.putAll(local);
        conf.putAll(options.settings());
        return conf;
    }

    private static final int DIRECT_MIB = 128 + 64 + 64;
    private static final int METASPACE_MIB = 256;

    static String yaml(Map<String, String> conf) {
        StringBuilder out = new StringBuilder("# Written by exegpt cluster start: flink-conf/config.yaml plus the local cluster's settings.\n");
        conf.forEach((k, v) -> out.append(k).append(": '").append(v.replace("'", "''")).append("'\n"));
        return out.toString();
    }

    private static Managed launch(Path workDir, Path libDir, String name, List<String> memory, String main, List<String> args)
            throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path log = workDir.resolve("log").resolve(name + ".log");
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.addAll(memory);
        command.add("-XX:+UseG1GC");
        command.addAll(JVM_OPENS);
        command.add("-Djava.awt.headless=true");
        command.add("-Dlog.file=" + log);
        command.add("-Dlog4j.configurationFile=" + workDir.resolve("conf").resolve("log4j2.properties").toUri());
        command.add("-cp");
        command.add(libDir + "/*");
        command.add(main);
        command.add("--configDir");
        command.add(workDir.resolve("conf").toString());
        command.addAll(args);
        Process process = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(workDir.resolve("log").resolve(name + ".out").toFile()))
                .start();
        Files.writeString(workDir.resolve("pids").resolve(name + ".pid"), Long.toString(process.pid()));
        LOG.info("started {} (pid {}), log {}", name, process.pid(), log);
        return new Managed(name, process, ChildProcesses.startWatchdog(process.pid(), STOP_GRACE_MS), log);
    }

    private static final String LOG4J2 = String.join("\n",
            "# Written by exegpt cluster start: each JVM logs INFO and above to <workDir>/log/<name>.log.",
            "status = warn",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.file.ref = file",
            "appender.file.type = File",
            "appender.file.name = file",
            "appender.file.append = true",
            "appender.file.fileName = ${sys:log.file}",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
            "logger.kafka.name = org.apache.kafka",
            "logger.kafka.level = WARN",
            "");

    @Override
    public String toString() {
        return "LocalFlinkCluster[" + restAddress() + ", " + taskManagers.size() + " TaskManager(s), " + workDir + "]";
    }
}
