package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.schemas.InferenceResult;

/**
 * Kafka client security settings ({@code kafka.client.*}) reach every client the job and the tools build, Kafka's own
 * config parsing accepts them, secrets never appear in what is printed or logged, and the REST endpoint binds to
 * loopback by default.
 */
class KafkaSecurityTest {

    private static final String JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule required "
            + "username=\"exegpt\" password=\"s3cret-jaas\";";
    private static final String TRUSTSTORE_PASSWORD = "s3cret-truststore";

    private static Map<String, String> settings() {
        Map<String, String> p = new HashMap<>();
        p.put("model.dir", "target/none");
        p.put("kafka.client.security.protocol", "SASL_SSL");
        p.put("kafka.client.sasl.mechanism", "SCRAM-SHA-512");
        p.put("kafka.client.sasl.jaas.config", JAAS);
        p.put("kafka.client.ssl.truststore.location", "/etc/kafka/truststore.jks");
        p.put("kafka.client.ssl.truststore.password", TRUSTSTORE_PASSWORD);
        return p;
    }

    private static void assertSecured(AbstractConfig config) {
        assertEquals("SASL_SSL", config.getString("security.protocol"));
        assertEquals("SCRAM-SHA-512", config.getString("sasl.mechanism"));
        assertEquals(JAAS, config.getPassword("sasl.jaas.config").value());
        assertEquals(TRUSTSTORE_PASSWORD, config.getPassword("ssl.truststore.password").value());
        assertEquals("/etc/kafka/truststore.jks", config.getString("ssl.truststore.location"));
        String logged = config.values().toString();      // what AbstractConfig.logAll prints
        assertFalse(logged.contains("s3cret"), logged);
        assertTrue(logged.contains(Password.HIDDEN), logged);
    }

    @Test
    void jobSettingsShouldReachTheJobsSourcesAndSinks() throws Exception {
        JobConfig config = JobConfig.load(null, settings());
        Properties client = config.kafkaClient();
        assertEquals("SASL_SSL", client.getProperty("security.protocol"), "kafka.client. is stripped");

        KafkaSource<?> requests = KafkaIo.requests("broker:9093", "exegpt.requests", "g", client);
        KafkaSource<?> feedback = KafkaIo.resultsFeedback("broker:9093", "exegpt.results", "g", client);
        KafkaSink<InferenceResult> sink = KafkaIo.sink("broker:9093", "exegpt.results", InferenceResult.getClassSchema(),
                r -> r.getRequestId(), true, "exegpt-results", client);
        for (Properties props : new Properties[] {field(requests, "props"), field(feedback, "props"),
                                                  field(sink, "kafkaProducerConfig")}) {
            assertEquals(JAAS, props.getProperty("sasl.jaas.config"));
            assertEquals("SASL_SSL", props.getProperty("security.protocol"));
        }
        assertSecured(new ConsumerConfig(withDeserializers(field(requests, "props"))));
        assertSecured(new ProducerConfig(withSerializers(field(sink, "kafkaProducerConfig"))));
    }

    @Test
    void toolSettingsShouldReachProducersConsumersAndAdminClients() {
        Properties client = JobConfigClient.of(settings());
        assertSecured(new ProducerConfig(KafkaClients.producer("broker:9093", "send", "lz4", client)));
        assertSecured(new ConsumerConfig(KafkaClients.consumer("broker:9093", "tail", client)));
        assertSecured(new AdminClientConfig(KafkaClients.admin("broker:9093", 5_000, client)));
        assertEquals("read_committed", KafkaClients.consumer("b:1", "g", client).get("isolation.level"), "our settings stay");
    }

    @Test
    void printedSettingsShouldMaskEverySecret() throws Exception {
        Map<String, String> described = JobConfig.load(null, settings()).describe();
        String printed = described.toString();
        assertFalse(printed.contains("s3cret") || printed.contains("password=\""), printed);
        assertEquals(KafkaClients.MASK, described.get("kafka.client.sasl.jaas.config"));
        assertEquals(KafkaClients.MASK, described.get("kafka.client.ssl.truststore.password"));
        assertEquals("SASL_SSL", described.get("kafka.client.security.protocol"), "what is no secret stays readable");
        assertTrue(KafkaClients.isSecret("ssl.key.password") && KafkaClients.isSecret("sasl.oauthbearer.token.endpoint.url")
                && KafkaClients.isSecret("SASL.JAAS.CONFIG"));
    }

    @Test
    void restEndpointShouldBindToLoopbackByDefault() {
        Configuration shipped = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));
        assertEquals("127.0.0.1", shipped.get(RestOptions.BIND_ADDRESS), "flink-conf/config.yaml");
        Configuration none = ExegptJob.flinkConfiguration(Path.of("target", "no-such-conf"));
        assertEquals("127.0.0.1", none.get(RestOptions.BIND_ADDRESS), "the MiniCluster without a config.yaml");
        assertEquals("127.0.0.1", none.get(RestOptions.ADDRESS));
    }

    private static Properties field(Object owner, String name) throws Exception {
        Field f = owner.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return (Properties) f.get(owner);
    }

    private static Properties withDeserializers(Properties p) {
        Properties out = new Properties();
        out.putAll(p);
        out.put("key.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
        out.put("value.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
        return out;
    }

    private static Properties withSerializers(Properties p) {
        Properties out = new Properties();
        out.putAll(p);
        out.put("key.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
        out.put("value.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
        return out;
    }

    /** The client part of job settings, as the job reads it. */
    private static final class JobConfigClient {
        static Properties of(Map<String, String> settings) {
            try {
                return JobConfig.load(null, settings).kafkaClient();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
