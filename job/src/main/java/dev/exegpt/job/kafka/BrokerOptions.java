package dev.exegpt.job.kafka;

import java.nio.file.Path;

/**
 * How to start a local single-node KRaft broker.
 *
 * @param dataDir        where the broker keeps its logs, metadata and configuration; created if missing
 * @param port           client (PLAINTEXT) port on 127.0.0.1; 0 picks a free one
 * @param controllerPort KRaft controller port on 127.0.0.1; 0 picks a free one
 * @param heapMib        maximum heap of the broker JVM, MiB
 * @param brokerLibDir   folder with the broker's jars (collected by the kafka-broker module); null finds it
 * @param startTimeoutMs how long to wait for the broker to answer describeCluster, ms
 */
public record BrokerOptions(Path dataDir, int port, int controllerPort, int heapMib, Path brokerLibDir,
                            long startTimeoutMs) {

    public static final int DEFAULT_PORT = 9092;
    public static final int DEFAULT_HEAP_MIB = 512;
    public static final long DEFAULT_START_TIMEOUT_MS = 60_000;

    public BrokerOptions {
        if (dataDir == null) {
            throw new IllegalArgumentException("dataDir must be set");
        }
        requirePort("port", port);
        requirePort("controllerPort", controllerPort);
        if (port != 0 && port == controllerPort) {
            throw new IllegalArgumentException("port and controllerPort must differ, both are " + port);
        }
        if (heapMib < 128) {
            throw new IllegalArgumentException("heapMib must be >= 128, got " + heapMib);
        }
        if (startTimeoutMs < 1_000) {
            throw new IllegalArgumentException("startTimeoutMs must be >= 1000, got " + startTimeoutMs);
        }
    }

    /** Free ports, default heap, the broker jars found automatically: what tests use. */
    public static BrokerOptions ephemeral(Path dataDir) {
        return new BrokerOptions(dataDir, 0, 0, DEFAULT_HEAP_MIB, null, DEFAULT_START_TIMEOUT_MS);
    }

    private static void requirePort(String name, int value) {
        if (value < 0 || value > 65_535) {
            throw new IllegalArgumentException(name + " must be 0 (any free port) or 1..65535, got " + value);
        }
    }
}
