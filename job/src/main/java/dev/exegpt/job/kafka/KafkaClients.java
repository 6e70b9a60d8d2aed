package dev.exegpt.job.kafka;

import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Client settings shared by the command line tools, and the reachability check they run first. */
public final class KafkaClients {

    /** Default bootstrap address: {@code EXEGPT_BOOTSTRAP}, else the port {@code exegpt kafka} uses. */
    public static final String DEFAULT_BOOTSTRAP = System.getenv().getOrDefault("EXEGPT_BOOTSTRAP", "127.0.0.1:9092");

    private KafkaClients() {}

    /** Producer of raw key/value bytes tuned for throughput: batches, lz4, idempotent, acks from all replicas. */
    public static Properties producer(String bootstrap, String clientId) {
        return producer(bootstrap, clientId, "lz4");
    }

    /** As {@link #producer(String, String)}, with a compression codec: none, gzip, snappy, lz4 or zstd. */
    public static Properties producer(String bootstrap, String clientId, String compression) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(512 * 1024));
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(128L * 1024 * 1024));
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(16 * 1024 * 1024));
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
        return props;
    }

    /** Consumer of raw bytes that reads committed records only (the job's sink is transactional). */
    public static Properties consumer(String bootstrap, String groupId) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        return props;
    }

    /**
     * Checks that a broker answers at {@code bootstrap} and has {@code topic}; throws
     * {@link IllegalStateException} with a message that says what to do otherwise.
     */
    public static void checkReachable(String bootstrap, String topic, long timeoutMs) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(timeoutMs));
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(timeoutMs));
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().nodes().get(timeoutMs, TimeUnit.MILLISECONDS);
            if (topic != null) {
                Set<String> topics = admin.listTopics().names().get(timeoutMs, TimeUnit.MILLISECONDS);
                if (!topics.contains(topic)) {
                    throw new IllegalStateException("topic " + topic + " does not exist at " + bootstrap
                            + " (topics there: " + topics + "); 'exegpt kafka' creates the exegpt topics");
                }
            }
        } catch (TimeoutException | ExecutionException e) {
            throw new IllegalStateException("no Kafka broker answered at " + bootstrap + " within " + timeoutMs
                    + " ms: start one with 'bin/exegpt kafka', or pass --bootstrap HOST:PORT");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reaching " + bootstrap, e);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new IllegalStateException("cannot use --bootstrap " + bootstrap + ": " + e.getMessage()
                    + " (expected HOST:PORT[,HOST:PORT...])");
        }
    }
}
