package dev.exegpt.job.cluster;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Finds the folder of Flink runtime jars that the {@code flink-cluster} module collects, and the shaded job jar. */
public final class FlinkJars {

    static final String LIB_PROPERTY = "exegpt.flink.lib";
    static final String LIB_ENV = "EXEGPT_FLINK_LIB";
    static final String JAR_PROPERTY = "exegpt.job.jar";
    static final String JAR_ENV = "EXEGPT_JOB_JAR";
    private static final Path LIB_RELATIVE = Path.of("flink-cluster", "target", "flink-lib");
    private static final Path JAR_RELATIVE = Path.of("job", "target", "exegpt.jar");

    private FlinkJars() {}

    /**
     * The given folder if not null, else in order: the system property {@value #LIB_PROPERTY}, the environment
     * variable {@value #LIB_ENV}, then {@code flink-cluster/target/flink-lib} in the working directory or any parent,
     * then beside the running jar (job/target/exegpt.jar sits two levels below the project root).
     */
    public static Path libDir(Path given) throws IOException {
        return find(given, LIB_PROPERTY, LIB_ENV, LIB_RELATIVE, FlinkJars::hasFlinkRuntime,
                "expected flink-runtime-*.jar there; build them with: mvn -B -ntp -pl flink-cluster package");
    }

    /** The shaded job jar a cluster accepts: as {@link #libDir}, with {@value #JAR_PROPERTY}, {@value #JAR_ENV}, job/target/exegpt.jar. */
    public static Path jobJar(Path given) throws IOException {
        if (given == null && System.getProperty(JAR_PROPERTY) == null && System.getenv(JAR_ENV) == null) {
            Path running = runningJar();
            if (running != null && running.getFileName().toString().endsWith(".jar") && Files.isRegularFile(running)) {
                return running;
            }
        }
        return find(given, JAR_PROPERTY, JAR_ENV, JAR_RELATIVE, Files::isRegularFile,
                "expected the shaded job jar; build it with: mvn -B -ntp -pl job -am package -DskipTests");
    }

    private interface Check {
        boolean test(Path p) throws IOException;
    }

    private static Path find(Path given, String property, String env, Path relative, Check ok, String expected)
            throws IOException {
        String configured = System.getProperty(property, System.getenv(env));
        if (given != null || (configured != null && !configured.isBlank())) {
            Path p = given != null ? given : Path.of(configured);
            if (ok.test(p)) {
                return p.toAbsolutePath();
            }
            throw new IOException("not found: " + p + (given != null ? "" : " (from " + property + " / " + env + ")") + "; " + expected);
        }
        List<Path> tried = new ArrayList<>();
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(relative);
            tried.add(candidate);
            if (ok.test(candidate)) {
                return candidate;
            }
        }
        Path running = runningJar();
        if (running != null && running.getParent() != null && running.getParent().getParent() != null
                && running.getParent().getParent().getParent() != null) {
            Path candidate = running.getParent().getParent().getParent().resolve(relative);
            tried.add(candidate);
            if (ok.test(candidate)) {
                return candidate;
            }
        }
        throw new IOException("not found (looked in " + tried + "); " + expected + ", or point " + env + " at it");
    }

    private static Path runningJar() {
        try {
            return Path.of(FlinkJars.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return null;
        }
    }

    private static boolean hasFlinkRuntime(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().startsWith("flink-runtime-"));
        }
    }
}
