package dev.exegpt.job.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;
import dev.exegpt.job.cluster.ClusterOptions;
import dev.exegpt.job.cluster.LocalFlinkCluster;

/** {@code exegpt cluster start|stop}: a standalone Flink session cluster of separate JVMs on 127.0.0.1. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = {"A standalone Flink session cluster on 127.0.0.1: one JobManager and N TaskManagers, each its own JVM,",
                "from the Flink jars Maven resolved (flink-cluster/target/flink-lib). Submit the job with 'exegpt run --jobmanager'."},
        subcommands = {ClusterCommand.Start.class, ClusterCommand.Stop.class})
final class ClusterCommand implements Callable<Integer> {

    static final String DEFAULT_DIR = "target/exegpt-cluster";

    @Override
    public Integer call() {
        throw new UserError("expected a subcommand: 'exegpt cluster start' or 'exegpt cluster stop'", CliErrors.EXIT_USAGE);
    }

    @Command(name = "start", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Start the cluster, print its REST address, and run until Ctrl-C or 'exegpt cluster stop', which stop",
                    "every JVM it started (a watchdog stops them too if this command is killed)."})
    static final class Start implements Callable<Integer> {

        @Option(names = "--taskmanagers", defaultValue = "1", description = "TaskManager JVMs. Default: ${DEFAULT-VALUE}.")
        int numTaskManagers;

        @Option(names = "--slots", defaultValue = "2", description = "Task slots per TaskManager. Default: ${DEFAULT-VALUE}.")
        int slots;

        @Option(names = "--rest-port", defaultValue = "" + ClusterOptions.DEFAULT_REST_PORT,
                description = "The JobManager's REST port on 127.0.0.1 (0: any free port). Default: ${DEFAULT-VALUE}.")
        int restPort;

        @Option(names = "--heap-mib", defaultValue = "" + ClusterOptions.DEFAULT_TASK_MANAGER_HEAP_MIB,
                description = "Heap of each TaskManager JVM, MiB. Default: ${DEFAULT-VALUE}.")
        int heapMib;

        @Option(names = "--flink-conf", defaultValue = "flink-conf",
                description = "Folder whose config.yaml is the base of the cluster's configuration. Default: ${DEFAULT-VALUE}.")
        Path flinkConf;

        @Option(names = "--dir", defaultValue = DEFAULT_DIR,
                description = "Generated configuration, logs, pid files and checkpoints. Default: ${DEFAULT-VALUE}.")
        Path dir;

        @Option(names = "--set", description = "Any Flink setting as key=value (repeatable), e.g. --set heartbeat.timeout=30s.")
        List<String> settings = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            Map<String, String> extra = new LinkedHashMap<>();
            for (String kv : settings) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new UserError("--set " + kv + ": expected key=value", CliErrors.EXIT_USAGE);
                }
                extra.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            }
            ClusterOptions options;
            try {
                options = new ClusterOptions(dir, flinkConf, numTaskManagers, slots, restPort, heapMib, null,
                        ClusterOptions.DEFAULT_START_TIMEOUT_MS, extra);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage().replace("numTaskManagers", "--taskmanagers").replace("slotsPerTaskManager", "--slots")
                        .replace("restPort", "--rest-port").replace("taskManagerHeapMib", "--heap-mib"), CliErrors.EXIT_USAGE);
            }
            long startNanos = System.nanoTime();
            LocalFlinkCluster cluster;
            try {
                cluster = LocalFlinkCluster.start(options);
            } catch (IOException e) {
                throw new UserError(e.getMessage());
            }
            System.out.printf("Flink cluster ready in %.1f s: JobManager pid %d, TaskManager pids %s (%d slots each)%n",
                    (System.nanoTime() - startNanos) / 1e9, cluster.jobManagerPid(), cluster.taskManagerPids(), slots);
            System.out.printf("configuration and logs: %s%n", cluster.workDir());
            System.out.printf("REST: http://%s   submit with: exegpt run --jobmanager %s%n", cluster.restAddress(), cluster.restAddress());
            System.out.println("Press Ctrl-C (or run 'exegpt cluster stop') to stop.");
            System.out.flush();
            int exit = cluster.awaitExit();
            cluster.close();
            System.out.printf("Flink cluster stopped (JobManager exit code %d)%n", exit);
            return exit == 0 || exit == 143 || exit == 130 ? 0 : exit;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stop the cluster that 'exegpt cluster start' runs from --dir (SIGTERM, then SIGKILL after 15 s).")
    static final class Stop implements Callable<Integer> {

        @Option(names = "--dir", defaultValue = DEFAULT_DIR, description = "The folder given to 'cluster start'. Default: ${DEFAULT-VALUE}.")
        Path dir;

        @Override
        public Integer call() throws Exception {
            Path pids = dir.resolve("pids");
            if (!Files.isDirectory(pids)) {
                throw new UserError("--dir " + dir + ": no cluster was started there (no pids folder); give the --dir of 'cluster start'");
            }
            List<ProcessHandle> stopping = new ArrayList<>();
            try (Stream<Path> files = Files.list(pids)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".pid")).sorted().toList()) {
                    String name = file.getFileName().toString().replace(".pid", "");
                    Optional<ProcessHandle> process = ProcessHandle.of(Long.parseLong(Files.readString(file).trim()));
                    if (process.isPresent() && isFlink(process.get())) {
                        System.out.printf("stopping %s (pid %d)%n", name, process.get().pid());
                        process.get().destroy();
                        stopping.add(process.get());
                    }
                    Files.delete(file);
                }
            }
            if (stopping.isEmpty()) {
                System.out.println("no Flink process of this cluster is running");
                return 0;
            }
            for (ProcessHandle p : stopping) {
                try {
                    p.onExit().get(15, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    System.out.printf("pid %d did not stop in 15 s; killing it%n", p.pid());
                    p.destroyForcibly();
                }
            }
            System.out.printf("stopped %d process(es)%n", stopping.size());
            return 0;
        }

        /** Only a JVM running one of Flink's entry points: a pid file may be stale and its number reused. */
        private static boolean isFlink(ProcessHandle p) {
            return p.isAlive() && p.info().arguments().map(args -> String.join(" ", args)).orElse("")
                    .contains("org.apache.flink.runtime.");
        }
    }
}
