package dev.exegpt.job.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

/** The local broker starts, keeps its data across restarts, refuses a busy port clearly, and leaves nothing behind. */
class LocalKafkaBrokerIT {

    @Test
    void shouldKeepTopicsAcrossRestartAndLeaveNoProcessBehind() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "broker-it-");
        long pid;
        int port;
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(BrokerOptions.ephemeral(dataDir))) {
            pid = broker.pid();
            port = broker.port();
            try (Admin admin = broker.admin()) {
                Topics.create(admin, Topics.all(), 2);
                assertTrue(admin.listTopics().names().get(10, TimeUnit.SECONDS).containsAll(Topics.all()));
            }
        }
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the broker process must be gone");
        try (ServerSocket reuse = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            assertEquals(port, reuse.getLocalPort(), "the client port must be free again");
        }

        BrokerOptions samePorts = new BrokerOptions(dataDir, port, 0, 256, null, 60_000);
        try (LocalKafkaBroker restarted = LocalKafkaBroker.start(samePorts); Admin admin = restarted.admin()) {
            Set<String> topics = admin.listTopics().names().get(10, TimeUnit.SECONDS);
            assertTrue(topics.containsAll(Topics.all()), "topics must survive a restart, got " + topics);
        }
    }

    @Test
    void shouldRefuseABusyPortWithAClearMessage() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "broker-busy-");
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            BrokerOptions options = new BrokerOptions(dataDir, busy.getLocalPort(), 0, 256, null, 60_000);
            IOException e = assertThrows(IOException.class, () -> LocalKafkaBroker.start(options));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
    }

    @Test
    void shouldNameTheFolderWhenTheBrokerJarsAreMissing() throws Exception {
        Path empty = Files.createTempDirectory(Path.of("target"), "no-jars-");
        BrokerOptions options = new BrokerOptions(empty, 0, 0, 256, empty.resolve("lib"), 5_000);
        IOException e = assertThrows(IOException.class, () -> LocalKafkaBroker.start(options));
        assertTrue(e.getMessage().contains("not found in " + empty.resolve("lib")), e.getMessage());
    }
}
