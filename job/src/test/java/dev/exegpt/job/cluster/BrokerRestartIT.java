package dev.exegpt.job.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobID;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.BrokerOptions;
import dev.exegpt.job.kafka.LocalKafkaBroker;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.job.pipeline.ExegptJob;

/**
 * The Kafka broker stops in the middle of a run on a real standalone cluster and starts again on the same data folder
 * and ports: the job recovers by itself and every request id is in the results exactly once (read committed).
 */
class BrokerRestartIT {

    private static final int NUM_REQUESTS = Integer.getInteger("exegpt.it.broker.requests", 2_000);
    private static final double RATE_PER_SECOND = 150;
    private static final long DOWN_MS = 5_000;

    @Test
    void shouldLoseNothingWhenTheBrokerRestartsMidRun() throws Exception {
        Path model = ClusterJobHarness.tinyModel();
        Path target = Files.createDirectories(Path.of("target")).toAbsolutePath();
        Path brokerDir = Files.createTempDirectory(target, "broker-restart-it-kafka-");
        int port = freePort();
        int controllerPort = freePort();
        BrokerOptions brokerOptions = new BrokerOptions(brokerDir, port, controllerPort, BrokerOptions.DEFAULT_HEAP_MIB, null,
                BrokerOptions.DEFAULT_START_TIMEOUT_MS);
        Map<String, String> topics = new HashMap<>();
        for (String t : Topics.all()) {
            topics.put(t, t);
        }
        ClusterOptions clusterOptions = new ClusterOptions(Files.createTempDirectory(target, "broker-restart-it-cluster-"),
                Path.of("..", "flink-conf"), 1, 2, 0, 768, null, ClusterOptions.DEFAULT_START_TIMEOUT_MS, Map.of());
        try (Brokers brokers = new Brokers(LocalKafkaBroker.start(brokerOptions));
             LocalFlinkCluster cluster = LocalFlinkCluster.start(clusterOptions)) {
            String bootstrap = brokers.current.bootstrapServers();
            try (Admin admin = brokers.current.admin()) {
                Topics.create(admin, Topics.all(), Topics.DEFAULT_PARTITIONS);
            }
            JobConfig config = ClusterJobHarness.jobConfig(bootstrap, topics, model, 2);
            ClusterRest rest = cluster.rest();
            JobID job = ClusterSubmission.submit(ClusterSubmission.Address.parse(cluster.restAddress()), FlinkJars.jobJar(null),
                    ClusterJobHarness.clientConfiguration(), config, ExegptJob.settings(config));
            TaskManagerKillIT.awaitAllTasksRunning(rest, job.toHexString(), 120_000);

            long stoppedAtMs;
            long restartedAtMs;
            long stopTookMs;
            try (ClusterJobHarness.Collector collector = new ClusterJobHarness.Collector(bootstrap, topics.get(Topics.RESULTS));
                 ClusterJobHarness.Sender sender = new ClusterJobHarness.Sender(bootstrap, topics.get(Topics.REQUESTS),
                         NUM_REQUESTS, RATE_PER_SECOND)) {
                TaskManagerKillIT.awaitCount(collector, NUM_REQUESTS / 10, 180_000);
                int numBefore = collector.numDistinct();
                long stopAskedMs = System.currentTimeMillis();
                brokers.current.close();
                stoppedAtMs = System.currentTimeMillis();
                stopTookMs = stoppedAtMs - stopAskedMs;
                System.out.printf("stopped the broker (pid %d) with %d results committed, %d requests sent%n",
                        brokers.current.pid(), numBefore, sender.numSent());
                Thread.sleep(DOWN_MS);
                brokers.current = LocalKafkaBroker.start(brokerOptions);
                restartedAtMs = System.currentTimeMillis();
                assertEquals(bootstrap, brokers.current.bootstrapServers(), "the broker is back on the same port");
                sender.await(600_000);
                collector.awaitDistinct(NUM_REQUESTS, 240_000);

                // Exactly once, in the topic as a fresh read-committed consumer reads it.
                Map<String, Integer> counts = ClusterJobHarness.countCommittedById(bootstrap, topics.get(Topics.RESULTS));
                ClusterJobHarness.Tally tally = ClusterJobHarness.Tally.of(counts, NUM_REQUESTS);
                long firstAfterRestartMs = collector.inOrder().stream().mapToLong(ClusterJobHarness.Seen::seenAtMs)
                        .filter(t -> t > restartedAtMs).min().orElse(-1);
                int maxAttempt = collector.inOrder().stream().mapToInt(s -> s.result().getAttempt()).max().orElse(0);
                String figures = String.format("broker restart, %d requests at %.0f/s: clean stop took %.1f s, broker gone %.1f s (%d ms pause + start); "
                                + "broker back -> first committed result %.1f s; lost %d, duplicated %d; highest attempt %d",
                        NUM_REQUESTS, RATE_PER_SECOND, stopTookMs / 1e3, (restartedAtMs - stoppedAtMs) / 1e3, DOWN_MS,
                        (firstAfterRestartMs - restartedAtMs) / 1e3, tally.missing().size(), tally.duplicated().size(), maxAttempt);
                System.out.println(figures);
                Files.writeString(Path.of("target", "cluster-it-broker-restart.txt"), figures + System.lineSeparator());

                tally.assertExactlyOnce(NUM_REQUESTS);
                assertTrue(firstAfterRestartMs > 0, "results resumed after the broker came back");
                assertEquals("RUNNING", rest.jobState(job.toHexString()), "the job runs after the broker restart");
            }
            rest.cancel(job.toHexString());
        }
    }

    /** The broker of the moment: the test replaces it mid-run, and whichever is current is stopped at the end. */
    private static final class Brokers implements AutoCloseable {
        LocalKafkaBroker current;

        Brokers(LocalKafkaBroker first) {
            current = first;
        }

        @Override
        public void close() {
            current.close();
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
