package dev.exegpt.job.process;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the local broker and the local Flink cluster share about the JVMs they start on this host: a watchdog so no
 * child outlives its owner, loopback ports, and the end of a child's log for error messages.
 */
public final class ChildProcesses {

    /** Children listen on loopback only. */
    public static final String LOOPBACK = "127.0.0.1";

    private ChildProcesses() {}

    /**
     * A shell loop that stops {@code pid} (SIGTERM, SIGKILL after {@code graceMs}) when this JVM is gone (killed,
     * crashed), so that no child outlives its owner. It exits by itself once the child has stopped.
     */
    public static Process startWatchdog(long pid, long graceMs) throws IOException {
        long ownerPid = ProcessHandle.current().pid();
        long graceS = Math.max(1, (graceMs + 999) / 1000);
        String script = "while kill -0 " + ownerPid + " 2>/dev/null && kill -0 " + pid + " 2>/dev/null; do sleep 1; done; "
                + "if kill -0 " + pid + " 2>/dev/null; then kill " + pid + "; sleep " + graceS + "; kill -9 " + pid
                + " 2>/dev/null; fi";
        return new ProcessBuilder("sh", "-c", script)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    /** A free port on loopback, other than {@code avoid} (a port chosen just before and not yet bound). */
    public static int freePort(int... avoid) throws IOException {
        for (int attempt = 0; attempt < 20; attempt++) {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
                int candidate = socket.getLocalPort();
                boolean avoided = false;
                for (int a : avoid) avoided |= candidate == a;
                if (!avoided) {
                    return candidate;
                }
            }
        }
        throw new IOException("found no free port on " + LOOPBACK);
    }

    /**
     * Fails with a message naming the flag when {@code port} is taken on loopback.
     *
     * @param what what else may hold it, for the message, e.g. "another broker"
     */
    public static void checkPortFree(String flag, int port, String what) throws IOException {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName(LOOPBACK))) {
            socket.setReuseAddress(true);
        } catch (IOException inUse) {
            throw new IOException(flag + " " + port + ": the port is in use on " + LOOPBACK
                    + " (" + what + " running?); choose another port or 0 for any free one");
        }
    }

    /** The last {@code lines} lines of a log, or why it could not be read. */
    public static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(could not read " + file + ": " + e.getMessage() + ")";
        }
    }

    /** Sleeps; an interrupt is kept and reported as what was being waited for. */
    public static void sleep(long ms, String waitingFor) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + waitingFor, e);
        }
    }
}
