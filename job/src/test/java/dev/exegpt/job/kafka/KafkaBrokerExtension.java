package dev.exegpt.job.kafka;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * Gives tests a real Kafka broker, one per test run (shared through the root store, stopped when the run ends):
 * Testcontainers' Kafka when a Docker engine answers, otherwise the same local KRaft broker that
 * {@code exegpt kafka} starts, in its own JVM (DESIGN.md §6). Tests take a {@link KafkaBroker} parameter and make
 * a fresh topic per test with {@link KafkaBroker#freshTopic}.
 */
public final class KafkaBrokerExtension implements ParameterResolver {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBrokerExtension.class);
    private static final String KAFKA_IMAGE = "apache/kafka:4.2.0";

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KafkaBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        ExtensionContext.Store store = context.getRoot().getStore(ExtensionContext.Namespace.create(KafkaBrokerExtension.class));
        return store.getOrComputeIfAbsent("broker", key -> start(), Running.class).broker();
    }

    private static Running start() {
        if (dockerAnswers()) {
            KafkaContainer container = new KafkaContainer(KAFKA_IMAGE);
            container.start();
            LOG.info("Test broker: Testcontainers {} at {}", KAFKA_IMAGE, container.getBootstrapServers());
            return new Running(new KafkaBroker(container.getBootstrapServers(), "testcontainers"), container::stop);
        }
        try {
            Path dataDir = Files.createTempDirectory(Path.of("target"), "test-kafka-");
            LocalKafkaBroker local = LocalKafkaBroker.start(BrokerOptions.ephemeral(dataDir));
            LOG.info("Test broker: local KRaft broker (no Docker engine) at {}", local.bootstrapServers());
            return new Running(new KafkaBroker(local.bootstrapServers(), "local"), local::close);
        } catch (IOException e) {
            throw new ParameterResolutionException("could not start the test Kafka broker: " + e.getMessage(), e);
        }
    }

    /** Asks Docker only where an engine could be: probing with no socket at all costs seconds of retries. */
    private static boolean dockerAnswers() {
        boolean maybe = System.getenv("DOCKER_HOST") != null || Files.exists(Path.of("/var/run/docker.sock"));
        if (!maybe) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Stops the broker when the root context closes, that is, at the end of the test run. */
    private record Running(KafkaBroker broker, Runnable stop) implements ExtensionContext.Store.CloseableResource {
        @Override
        public void close() {
            stop.run();
        }
    }
}
