package dev.exegpt.job.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;

/**
 * The user's Kafka client settings for a command that talks to a broker (security.protocol, sasl.*, ssl.*, any client
 * property): from a properties file, with single settings on top. They reach every producer, consumer and admin client
 * the command builds; values that may be secrets are never printed.
 */
final class KafkaClientOptions {

    static final String PREFIX = "kafka.client.";

    @Option(names = "--kafka-client-config", paramLabel = "FILE",
            description = "Kafka client settings (properties: plain client keys, or kafka.client.* keys as in exegpt.properties), "
                    + "e.g. security.protocol=SASL_SSL, sasl.mechanism, sasl.jaas.config, ssl.truststore.location.")
    Path file;

    @Option(names = "--kafka-client", paramLabel = "KEY=VALUE",
            description = "One Kafka client setting (repeatable; over --kafka-client-config), e.g. --kafka-client security.protocol=SSL.")
    List<String> settings = new ArrayList<>();

    /** The settings as plain Kafka client properties. */
    Properties properties() {
        Properties out = new Properties();
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new UserError("--kafka-client-config " + file + ": no such file (expected a properties file of Kafka "
                        + "client settings)", CliErrors.EXIT_USAGE);
            }
            Properties read = new Properties();
            try (Reader reader = Files.newBufferedReader(file)) {
                read.load(reader);
            } catch (IOException e) {
                throw new UserError("--kafka-client-config " + file + ": cannot read it (" + e.getMessage() + ")");
            }
            for (String key : read.stringPropertyNames()) {
                out.setProperty(key.startsWith(PREFIX) ? key.substring(PREFIX.length()) : key, read.getProperty(key).trim());
            }
        }
        for (String kv : settings) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                // Not echoed: a value given without its key may be a secret.
                throw new UserError("--kafka-client: an entry has no KEY= part: expected KEY=VALUE, e.g. "
                        + "security.protocol=SASL_SSL", CliErrors.EXIT_USAGE);
            }
            String key = kv.substring(0, eq).trim();
            out.setProperty(key.startsWith(PREFIX) ? key.substring(PREFIX.length()) : key, kv.substring(eq + 1).trim());
        }
        return out;
    }
}
