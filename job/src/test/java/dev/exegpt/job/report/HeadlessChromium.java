package dev.exegpt.job.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Debian's headless Chromium for the report's browser test: found on the PATH, run with a time limit. */
final class HeadlessChromium {

    private static final long BROWSER_TIMEOUT_S = 90;

    private HeadlessChromium() {}

    /** Runs headless Chromium with its own profile dir and a time limit; returns its standard output. */
    static String browser(Path chromium, Path dir, String... args) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(dir, "chromium-profile-");
        List<String> command = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run", "--user-data-dir=" + profile));
        command.addAll(List.of(args));
        Path stdout = dir.resolve("chromium.out");
        Path stderr = dir.resolve("chromium.err");
        Process p = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        try {
            if (!p.waitFor(BROWSER_TIMEOUT_S, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail("chromium did not finish in " + BROWSER_TIMEOUT_S + " s: " + command);
            }
            assertEquals(0, p.exitValue(), "chromium failed: " + command + "\n" + Files.readString(stderr));
            return Files.readString(stdout, StandardCharsets.UTF_8);
        } finally {
            deleteTree(profile);
        }
    }

    /** Best effort: a helper process of Chromium's still writing there leaves the folder to target/'s next clean. */
    private static void deleteTree(Path dir) {
        try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            System.err.printf("HtmlReportIT: could not remove %s: %s%n", dir, e);
        }
    }

    /** Chromium on the PATH (or $CHROMIUM); a failure on CI, else a skip that says how to install it. */
    static Path chromium() {
        Optional<Path> found = Optional.ofNullable(System.getenv("CHROMIUM")).map(Path::of).filter(Files::isExecutable)
                .or(() -> onPath("chromium")).or(() -> onPath("chromium-browser"));
        if (found.isEmpty()) {
            String message = "no chromium on the PATH (nor $CHROMIUM): install it with bin/setup-chromium";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(message + " (CI=true, so this is a failure, not a skip)");
            }
            Assumptions.assumeTrue(false, message);
        }
        return found.get();
    }

    private static Optional<Path> onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
