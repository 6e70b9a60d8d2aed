package dev.exegpt.job.kafka;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Finds the folder of Kafka broker jars that the {@code kafka-broker} module collects. */
final class BrokerJars {

    static final String PROPERTY = "exegpt.broker.lib";
    static final String ENV = "EXEGPT_BROKER_LIB";
    private static final Path RELATIVE = Path.of("kafka-broker", "target", "broker-lib");

    private BrokerJars() {}

    /**
     * The given folder if not null, else in order: the system property {@value #PROPERTY}, the environment variable {@value #ENV}, then
     * {@code kafka-broker/target/broker-lib} in the working directory or any parent, then next to the running jar
     * (job/target/exegpt.jar sits two levels below the project root).
     */
    static Path find(Path given) throws IOException {
        List<Path> tried = new ArrayList<>();
        String configured = System.getProperty(PROPERTY, System.getenv(ENV));
        if (given != null || (configured != null && !configured.isBlank())) {
            Path dir = given != null ? given : Path.of(configured);
            if (hasBrokerJar(dir)) {
                return dir;
            }
            throw new IOException("Kafka broker jars not found in " + dir + (given != null ? "" : " (from " + PROPERTY
                    + " / " + ENV + ")") + ": expected kafka_2.13-*.jar there; build them with: mvn -pl kafka-broker package");
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(RELATIVE);
            tried.add(candidate);
            if (hasBrokerJar(candidate)) {
                return candidate;
            }
        }
        Path fromJar = besideRunningJar();
        if (fromJar != null) {
            tried.add(fromJar);
            if (hasBrokerJar(fromJar)) {
                return fromJar;
            }
        }
        throw new IOException("Kafka broker jars not found (looked in " + tried + "): build them with "
                + "'mvn -B -ntp -pl kafka-broker package' (bin/exegpt does this), or point " + ENV + " at a folder of them");
    }

    private static Path besideRunningJar() {
        try {
            Path location = Path.of(BrokerJars.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path root = location.getParent() == null ? null : location.getParent().getParent();
            return root == null || root.getParent() == null ? null : root.getParent().resolve(RELATIVE);
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return null;
        }
    }

    private static boolean hasBrokerJar(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().startsWith("kafka_2.13-"));
        }
    }
}
