package dev.exegpt.job.kafka;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.exegpt.job.process.ChildProcesses;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) on 127.0.0.1, in its own JVM, started
 * from the jars the {@code kafka-broker} module collects (DESIGN.md §6). The broker never shares a class path with
 * the job: an in-JVM broker must match kafka-clients exactly and is fragile.
 *
 * <p>Lifecycle: {@link #start} formats the storage (first start only), launches {@code kafka.Kafka}, and returns
 * once {@code describeCluster} answers. {@link #close} stops the broker cleanly (SIGTERM, then SIGKILL after a
 * grace period). A watchdog process stops the broker if this JVM dies without closing it, so no broker outlives
 * its owner.
 */
public final class LocalKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalKafkaBroker.class);
    private static final String LOOPBACK = ChildProcesses.LOOPBACK;
    private static final long STOP_GRACE_MS = 20_000;

    private final BrokerOptions options;
    private final int port;
    private final int controllerPort;
    private final Process broker;
    private final Process watchdog;
    private final Thread shutdownHook;

    private LocalKafkaBroker(BrokerOptions options, int port, int controllerPort, Process broker, Process watchdog) {
        this.options = options;
        this.port = port;
        this.controllerPort = controllerPort;
        this.broker = broker;
        this.watchdog = watchdog;
        this.shutdownHook = new Thread(this::stopQuietly, "exegpt-kafka-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts a broker and waits until it answers; throws with the broker's own last log lines if it cannot. */
    public static LocalKafkaBroker start(BrokerOptions options) throws IOException {
        Path dataDir = options.dataDir().toAbsolutePath();
        Files.createDirectories(dataDir);
        Path libDir = BrokerJars.find(options.brokerLibDir());
        int port = options.port() != 0 ? options.port() : ChildProcesses.freePort();
        int controllerPort = options.controllerPort() != 0 ? options.controllerPort() : ChildProcesses.freePort(port);
        ChildProcesses.checkPortFree("--port", port, "another broker");
        ChildProcesses.checkPortFree("--controller-port", controllerPort, "another broker");

        Path config = dataDir.resolve("server.properties");
        Files.writeString(config, serverProperties(dataDir, port, controllerPort));
        Path log4j = dataDir.resolve("log4j2.properties");
        Files.writeString(log4j, LOG4J2);
        Path brokerLog = dataDir.resolve("broker.log");

        if (!Files.exists(dataDir.resolve("logs").resolve("meta.properties"))) {
            long formatNanos = System.nanoTime();
            format(options, libDir, config, log4j, brokerLog);
            LOG.info("formatted the broker's storage in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - formatNanos));
        }
        List<String> command = javaCommand(options, libDir, log4j);
        command.add("kafka.Kafka");
        command.add(config.toString());
        long startNanos = System.nanoTime();
        Process broker = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(brokerLog.toFile()))
                .start();
        Process watchdog = ChildProcesses.startWatchdog(broker.pid(), STOP_GRACE_MS);
        LocalKafkaBroker started = new LocalKafkaBroker(options, port, controllerPort, broker, watchdog);
        try {
            started.awaitReady(options.startTimeoutMs(), brokerLog);
        } catch (IOException | RuntimeException e) {
            started.close();
            throw e;
        }
        LOG.info("Kafka broker ready at {} in {} ms (pid {}, data {})", started.bootstrapServers(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), broker.pid(), dataDir);
        return started;
    }

    /** {@code host:port} for the clients' {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return LOOPBACK + ":" + port;
    }

    public int port() {
        return port;
    }

    public int controllerPort() {
        return controllerPort;
    }

    public long pid() {
        return broker.pid();
    }

    public boolean isAlive() {
        return broker.isAlive();
    }

    /** A new admin client for this broker; the caller closes it. */
    public Admin admin() {
        return Admin.create(adminProperties(bootstrapServers()));
    }

    /** Blocks until the broker process ends (for {@code exegpt kafka}); returns its exit code. */
    public int awaitExit() throws InterruptedException {
        return broker.waitFor();
    }

    @Override
    public void close() {
        stopQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // The hook is running or has run; nothing to remove.
        }
    }

    private synchronized void stopQuietly() {
        if (broker.isAlive()) {
            broker.destroy();
            try {
                if (!broker.waitFor(STOP_GRACE_MS, TimeUnit.MILLISECONDS)) {
                    LOG.warn("Kafka broker (pid {}) did not stop in {} ms; killing it", broker.pid(), STOP_GRACE_MS);
                    broker.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                broker.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        watchdog.destroy();
    }

    private void awaitReady(long timeoutMs, Path brokerLog) throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        Properties props = adminProperties(bootstrapServers());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000");
        try (Admin admin = Admin.create(props)) {
            while (true) {
                if (!broker.isAlive()) {
                    throw new IOException("Kafka broker exited with code " + broker.exitValue() + " before it was ready; "
                            + "last lines of " + brokerLog + ":\n" + ChildProcesses.tail(brokerLog, 15));
                }
                try {
                    admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
                    return;
                } catch (Exception notYet) {
                    if (System.currentTimeMillis() > deadline) {
                        throw new IOException("Kafka broker did not answer within " + timeoutMs + " ms at "
                                + bootstrapServers() + "; last lines of " + brokerLog + ":\n" + ChildProcesses.tail(brokerLog, 15));
                    }
                    ChildProcesses.sleep(100, "the broker");
                }
            }
        }
    }

    private static void format(BrokerOptions options, Path libDir, Path config, Path log4j, Path brokerLog)
            throws IOException {
        List<String> command = javaCommand(options, libDir, log4j);
        // A short-lived tool: the C1 compiler alone starts it faster.
        command.add(1, "-XX:TieredStopAtLevel=1");
        command.addAll(List.of("kafka.tools.StorageTool", "format", "--cluster-id", Uuid.randomUuid().toString(),
                "--config", config.toString(), "--ignore-formatted"));
        Process format = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(brokerLog.toFile()))
                .start();
        try {
            if (!format.waitFor(60, TimeUnit.SECONDS)) {
                format.destroyForcibly();
                throw new IOException("formatting the broker's storage took over 60 s; see " + brokerLog);
            }
        } catch (InterruptedException e) {
            format.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while formatting the broker's storage", e);
        }
        if (format.exitValue() != 0) {
            throw new IOException("formatting the broker's storage failed (exit " + format.exitValue() + "); last lines of "
                    + brokerLog + ":\n" + ChildProcesses.tail(brokerLog, 15));
        }
    }

    private static List<String> javaCommand(BrokerOptions options, Path libDir, Path log4j) {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.add("-Xmx" + options.heapMib() + "m");
        command.add("-Xms" + Math.min(options.heapMib(), 256) + "m");
        command.add("-XX:+UseG1GC");
        command.add("-Djava.awt.headless=true");
        command.add("-Dlog4j2.configurationFile=" + log4j.toUri());
        command.add("-cp");
        command.add(libDir.toAbsolutePath() + "/*");
        return command;
    }

    static String serverProperties(Path dataDir, int port, int controllerPort) {
        return String.join("\n",
                "# Written by exegpt: a single-node KRaft broker on loopback (DESIGN.md §6).",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@" + LOOPBACK + ":" + controllerPort,
                "listeners=PLAINTEXT://" + LOOPBACK + ":" + port + ",CONTROLLER://" + LOOPBACK + ":" + controllerPort,
                "advertised.listeners=PLAINTEXT://" + LOOPBACK + ":" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "log.dirs=" + dataDir.resolve("logs"),
                "num.partitions=" + Topics.DEFAULT_PARTITIONS,
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "log.segment.bytes=104857600",
                "log.retention.hours=24",
                "message.max.bytes=16777216",
                "");
    }

    private static Properties adminProperties(String bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "exegpt-admin");
        return props;
    }

    private static final String LOG4J2 = String.join("\n",
            "# Written by exegpt: the broker logs INFO and above to broker.log (its stdout, redirected).",
            "status = warn",
            "appender.out.type = Console",
            "appender.out.name = out",
            "appender.out.layout.type = PatternLayout",
            "appender.out.layout.pattern = [%d] %p %m (%c)%n",
            "rootLogger.level = info",
            "rootLogger.appenderRef.out.ref = out",
            "logger.kafka.name = kafka",
            "logger.kafka.level = info",
            "logger.state.name = state.change.logger",
            "logger.state.level = warn",
            "logger.request.name = kafka.request.logger",
            "logger.request.level = warn",
            "");

    @Override
    public String toString() {
        return "LocalKafkaBroker[" + bootstrapServers() + ", pid " + broker.pid() + ", data " + options.dataDir() + "]";
    }
}
