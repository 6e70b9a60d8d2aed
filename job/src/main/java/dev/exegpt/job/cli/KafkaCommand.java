package dev.exegpt.job.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;
import dev.exegpt.job.kafka.BrokerOptions;
import dev.exegpt.job.kafka.LocalKafkaBroker;
import dev.exegpt.job.kafka.Topics;

/** {@code exegpt kafka}: a real single-node KRaft broker on 127.0.0.1 with the exegpt topics, until Ctrl-C. */
@Command(name = "kafka", mixinStandardHelpOptions = true,
        description = {"Start a single-node Kafka broker (KRaft) on 127.0.0.1 in its own JVM, create the exegpt topics,",
                "print the bootstrap address, and run until Ctrl-C, which stops it cleanly."})
final class KafkaCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaCommand.class);

    @Option(names = "--port", defaultValue = "9092", description = "Client port on 127.0.0.1 (0: any free port). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--controller-port", defaultValue = "9093", description = "KRaft controller port (0: any free port). Default: ${DEFAULT-VALUE}.")
    int controllerPort;

    @Option(names = "--data-dir", defaultValue = "target/exegpt-kafka",
            description = "Broker data folder; kept between runs. Default: ${DEFAULT-VALUE}.")
    Path dataDir;

    @Option(names = "--fresh", description = "Delete the data folder first (all topics and records).")
    boolean fresh;

    @Option(names = "--partitions", defaultValue = "" + Topics.DEFAULT_PARTITIONS,
            description = "Partitions of the data topics. Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(names = "--heap-mib", defaultValue = "" + BrokerOptions.DEFAULT_HEAP_MIB,
            description = "Maximum heap of the broker JVM, MiB. Default: ${DEFAULT-VALUE}.")
    int heapMib;

    @Override
    public Integer call() throws Exception {
        if (partitions < 1) {
            throw new UserError("--partitions " + partitions + ": must be >= 1", CliErrors.EXIT_USAGE);
        }
        if (fresh) {
            deleteRecursively(dataDir);
        }
        long startNanos = System.nanoTime();
        BrokerOptions options = new BrokerOptions(dataDir, port, controllerPort, heapMib, null,
                BrokerOptions.DEFAULT_START_TIMEOUT_MS);
        LocalKafkaBroker broker;
        try {
            broker = LocalKafkaBroker.start(options);
        } catch (IOException e) {
            throw new UserError(e.getMessage());
        }
        long topicsNanos = System.nanoTime();
        try (Admin admin = broker.admin()) {
            Topics.create(admin, Topics.all(), partitions);
        }
        LOG.info("topics ready in {} ms", (System.nanoTime() - topicsNanos) / 1_000_000);
        double readySeconds = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf("Kafka broker ready in %.1f s (pid %d, data %s)%n", readySeconds, broker.pid(), dataDir.toAbsolutePath());
        System.out.printf("topics: %s%n", String.join(", ", Topics.all()));
        System.out.printf("bootstrap: %s%n", broker.bootstrapServers());
        System.out.println("Press Ctrl-C to stop.");
        System.out.flush();
        int exit = broker.awaitExit();
        broker.close();
        // Ctrl-C reaches the broker too (same process group): it stops by itself and the shutdown hook waits for it.
        return exit == 0 || exit == 143 || exit == 130 ? 0 : exit;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
