package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The tools' Kafka client settings: from a file and single flags, prefix or not, secrets never echoed. */
class KafkaClientOptionsTest {

    @Test
    void shouldReadAFileAndFlagsWithOrWithoutTheKafkaClientPrefix() throws Exception {
        Path file = Files.createDirectories(Path.of("target", "kafka-client-options")).resolve("client.properties");
        Files.writeString(file, """
                security.protocol = SASL_SSL
                kafka.client.sasl.mechanism = PLAIN
                sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";
                """);
        KafkaClientOptions options = new KafkaClientOptions();
        options.file = file;
        options.settings = List.of("kafka.client.sasl.mechanism=SCRAM-SHA-256", "ssl.endpoint.identification.algorithm=");
        Properties p = options.properties();
        assertEquals("SASL_SSL", p.getProperty("security.protocol"));
        assertEquals("SCRAM-SHA-256", p.getProperty("sasl.mechanism"), "a flag wins over the file; the prefix is stripped");
        assertTrue(p.getProperty("sasl.jaas.config").endsWith("password=\"p\";"));
        assertEquals("", p.getProperty("ssl.endpoint.identification.algorithm"), "an empty value is a value");
    }

    @Test
    void shouldSayWhatIsWrongWithoutEchoingAValue() {
        KafkaClientOptions noKey = new KafkaClientOptions();
        noKey.settings = List.of("hunter2");
        CliErrors.UserError e = assertThrows(CliErrors.UserError.class, noKey::properties);
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertTrue(e.getMessage().contains("expected KEY=VALUE"), e.getMessage());
        KafkaClientOptions missing = new KafkaClientOptions();
        missing.file = Path.of("target", "no-such-client.properties");
        assertTrue(assertThrows(CliErrors.UserError.class, missing::properties).getMessage()
                .startsWith("--kafka-client-config target/no-such-client.properties: no such file"));
    }

    @Test
    void aToolShouldTakeTheSettingsAndNeverPrintTheSecret() {
        StdStreams run = StdStreams.run("tail", "--bootstrap", "127.0.0.1:1", "--max", "1",
                "--kafka-client", "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
                        + "username=\"u\" password=\"hunter2\";",
                "--kafka-client", "security.protocol=SASL_PLAINTEXT", "--kafka-client", "sasl.mechanism=PLAIN");
        assertEquals(CliErrors.EXIT_FAILURE, run.exitCode(), run.err());
        assertTrue(run.err().contains("127.0.0.1:1"), run.err());
        assertFalse((run.out() + run.err()).contains("hunter2"), run.err());
    }
}
