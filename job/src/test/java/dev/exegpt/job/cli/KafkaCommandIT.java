package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code exegpt kafka} from the packaged jar, as a user runs it: ready with the bootstrap address printed, and on
 * Ctrl-C (SIGINT to the process group) it stops cleanly and leaves no process behind.
 */
class KafkaCommandIT {

    @Test
    void shouldStartPrintTheAddressAndStopCleanlyOnCtrlC() throws Exception {
        Path jar = Path.of("target", "exegpt.jar");
        assertTrue(Files.exists(jar), "the shaded jar is built in the package phase, before integration tests");
        Path dataDir = Files.createTempDirectory(Path.of("target"), "kafka-cmd-");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process cli = new ProcessBuilder(java.toString(), "--add-modules", "jdk.incubator.vector", "-jar", jar.toString(),
                "kafka", "--port", "0", "--controller-port", "0", "--data-dir", dataDir.toString())
                .redirectErrorStream(true)
                .start();
        List<String> output = new ArrayList<>();
        String bootstrap = null;
        long startMs = System.currentTimeMillis();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(cli.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null && bootstrap == null; line = lines.readLine()) {
                output.add(line);
                if (line.startsWith("bootstrap: ")) {
                    bootstrap = line.substring("bootstrap: ".length());
                }
            }
            assertTrue(bootstrap != null && bootstrap.startsWith("127.0.0.1:"), "output was: " + output);
            long readyMs = System.currentTimeMillis() - startMs;
            System.out.printf("exegpt kafka ready in %d ms%n", readyMs);

            List<ProcessHandle> family = cli.descendants().toList();
            assertTrue(family.stream().anyMatch(p -> p.info().commandLine().orElse("").contains("kafka.Kafka")),
                    "the broker runs in its own JVM");
            // Ctrl-C in a terminal signals the whole foreground process group.
            new ProcessBuilder("kill", "-INT", Long.toString(cli.pid())).start().waitFor();
            for (ProcessHandle child : family) {
                new ProcessBuilder("kill", "-INT", Long.toString(child.pid())).start().waitFor();
            }
            assertTrue(cli.waitFor(60, TimeUnit.SECONDS), "exegpt kafka must stop within 60 s of Ctrl-C");
            // The JVM ends by the signal after its shutdown hooks ran: 130 (128 + SIGINT) is the conventional code.
            assertTrue(cli.exitValue() == 0 || cli.exitValue() == 130, "exit code was " + cli.exitValue());
            for (ProcessHandle child : family) {
                child.onExit().get(30, TimeUnit.SECONDS);
                assertTrue(!child.isAlive(), "process " + child.pid() + " outlived exegpt kafka");
            }
        } finally {
            cli.destroyForcibly();
        }
    }
}
