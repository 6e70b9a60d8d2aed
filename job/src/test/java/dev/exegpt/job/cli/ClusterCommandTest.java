package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** {@code exegpt run --jobmanager} and {@code exegpt cluster}: wrong addresses and options end in one clear line. */
class ClusterCommandTest {

    @Test
    void submittingWhereNothingAnswersSaysSoAndHowToStartACluster() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            closedPort = socket.getLocalPort();
        }
        StdStreams run = StdStreams.run("run", "--jobmanager", "127.0.0.1:" + closedPort);
        assertEquals(1, run.exitCode(), run.err());
        assertTrue(run.err().startsWith("run: --jobmanager 127.0.0.1:" + closedPort + ": no Flink JobManager answers at http://127.0.0.1:"
                + closedPort), run.err());
        assertTrue(run.err().contains("exegpt cluster start"), run.err());
        assertEquals(1, run.err().strip().lines().count(), "one line, no stack trace: " + run.err());
    }

    @Test
    void aMalformedJobManagerAddressIsAUsageError() {
        StdStreams noPort = StdStreams.run("run", "--jobmanager", "localhost");
        assertEquals(2, noPort.exitCode());
        assertTrue(noPort.err().contains("--jobmanager: expected HOST:PORT of the JobManager's REST endpoint"), noPort.err());
        StdStreams badPort = StdStreams.run("run", "--jobmanager", "localhost:http");
        assertEquals(2, badPort.exitCode());
        assertTrue(badPort.err().contains("expected HOST:PORT with a numeric port, got 'localhost:http'"), badPort.err());
        StdStreams batch = StdStreams.run("run", "--jobmanager", "localhost:8081", "--input", "a.jsonl", "--output", "b.jsonl");
        assertEquals(2, batch.exitCode());
        assertTrue(batch.err().contains("batch mode (--input/--output) runs on the embedded MiniCluster"), batch.err());
    }

    @Test
    void clusterOptionsOutOfRangeNameTheFlag() {
        StdStreams none = StdStreams.run("cluster", "start", "--taskmanagers", "0");
        assertEquals(2, none.exitCode());
        assertTrue(none.err().contains("--taskmanagers must be in [1, 64], got 0"), none.err());
        StdStreams noSubcommand = StdStreams.run("cluster");
        assertEquals(2, noSubcommand.exitCode());
        assertTrue(noSubcommand.err().contains("expected a subcommand"), noSubcommand.err());
    }

    @Test
    void stoppingWhereNoClusterWasStartedSaysSo() {
        StdStreams stop = StdStreams.run("cluster", "stop", "--dir", "target/no-such-cluster");
        assertEquals(1, stop.exitCode());
        assertTrue(stop.err().contains("--dir target/no-such-cluster: no cluster was started there"), stop.err());
    }
}
