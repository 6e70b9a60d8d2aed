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

/**
 * Client settings shared by the command line tools, and the reachability check they run first. Every builder takes
 * the user's own Kafka client settings ({@code kafka.client.*} in exegpt.properties, {@code --kafka-client} on the
 * command line: security.protocol, sasl.*, ssl.* and any other client property) and applies them last, so they
 * reach every producer, consumer and admin client; {@link #describe} masks the ones that may hold secrets.
 */
public final class KafkaClients {

    /** Default bootstrap address: {@code EXEGPT_BOOTSTRAP}, else the port {@code exegpt kafka} uses. */
    public static final String DEFAULT_BOOTSTRAP = System.getenv().getOrDefault("EXEGPT_BOOTSTRAP", "127.0.0.1:9092");

    /** Parts of a key that mark its value as a possible secret (passwords, JAAS config, keys, tokens): never printed. */
    private static final Set<String> SECRET_HINTS = Set.of("password", "secret", "jaas", "token", "key", "credential");
    public static final String MASK = "******";

    private KafkaClients() {}

    /** {@code base} with the user's client settings put over it (a new object; neither argument changes). */
    public static Properties withClient(Properties base, Properties client) {
        Properties props = new Properties();
        props.putAll(base);
        if (client != null) {
            props.putAll(client);
        }
        return props;
    }

    /** Whether a client property's value may be a secret (and so is never printed or logged). */
    public static boolean isSecret(String key) {
        String k = key.toLowerCase(java.util.Locale.ROOT);
        return SECRET_HINTS.stream().anyMatch(k::contains);
    }

    /** Client settings as key = value for a log or a printout, every possible secret masked. */
    public static java.util.Map<String, String> describe(Properties client) {
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        for (String key : client.stringPropertyNames()) {
            out.put(key, isSecret(key) ? MASK : client.getProperty(key));
        }
        return out;
    }

    /** Producer of raw key/value bytes tuned for throughput: batches, lz4, idempotent, acks from all replicas. */
    public static Properties producer(String bootstrap, String clientId) {
        return producer(bootstrap, clientId, "lz4");
    }

    /** As {@link #producer(String, String)}, with a compression codec: none, gzip, snappy, lz4 or zstd. */
    public static Properties producer(String bootstrap, String clientId, String compression) {
        return producer(bootstrap, clientId, compression, new Properties());
    }

    /** As {@link #producer(String, String, String)}, with the user's client settings applied last. */
    public static Properties producer(String bootstrap, String clientId, String compression, Properties client) {
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
        return withClient(props, client);
    }

    /** Consumer of raw bytes that reads committed records only (the job's sink is transactional). */
    public static Properties consumer(String bootstrap, String groupId) {
        return consumer(bootstrap, groupId, new Properties());
    }

    /** As {@link #consumer(String, String)}, with the user's client settings applied last. */
    public static Properties consumer(String bootstrap, String groupId, Properties client) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        return withClient(props, client);
    }

    /**
     * Checks that a broker answers at {@code bootstrap} and has {@code topic}; throws
     * {@link IllegalStateException} with a message that says what to do otherwise.
     */
    public static void checkReachable(String bootstrap, String topic, long timeoutMs) {
        checkReachable(bootstrap, topic, timeoutMs, new Properties());
    }

    /** As {@link #checkReachable(String, String, long)}, with the user's client settings (security) applied. */
    public static void checkReachable(String bootstrap, String topic, long timeoutMs, Properties client) {
        Properties props = admin(bootstrap, timeoutMs, client);
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

    /** Kafka's default producer {@code max.request.size} and a topic's default {@code max.message.bytes}, about 1 MiB. */
    public static final int KAFKA_DEFAULT_MAX_RECORD_BYTES = 1_048_576;

    /**
     * The largest record a sink may write to {@code topic}: the topic's {@code max.message.bytes} (which defaults to
     * the broker's {@code message.max.bytes}), and no more than a {@code max.request.size} the user set for the
     * producer. Where the topic's configuration cannot be read (no such topic yet, no permission), Kafka's default of
     * 1 MiB, and the log says so.
     */
    public static int maxRecordBytes(String bootstrap, String topic, Properties client, long timeoutMs) {
        int limit;
        try (Admin admin = Admin.create(admin(bootstrap, timeoutMs, client))) {
            org.apache.kafka.common.config.ConfigResource resource = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
            org.apache.kafka.clients.admin.Config config = admin.describeConfigs(java.util.List.of(resource)).all()
                    .get(timeoutMs, TimeUnit.MILLISECONDS).get(resource);
            limit = Integer.parseInt(config.get("max.message.bytes").value());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn("cannot read max.message.bytes of topic {} at {} ({}): sinks assume Kafka's default of {} bytes", topic,
                    bootstrap, e.toString(), KAFKA_DEFAULT_MAX_RECORD_BYTES);
            limit = KAFKA_DEFAULT_MAX_RECORD_BYTES;
        }
        String userMax = client.getProperty("max.request.size");
        if (userMax != null) {
            limit = Math.min(limit, Integer.parseInt(userMax.trim()));
        }
        return limit;
    }

    /**
     * Whether {@code topic} exists at {@code bootstrap}, creating it with {@code partitions} when it does not (a
     * deployment made before the topic was added); false, with a WARN line, when neither can be done in time.
     */
    public static boolean ensureTopic(String bootstrap, String topic, int partitions, Properties client, long timeoutMs) {
        try (Admin admin = Admin.create(admin(bootstrap, timeoutMs, client))) {
            if (admin.listTopics().names().get(timeoutMs, TimeUnit.MILLISECONDS).contains(topic)) {
                return true;
            }
            admin.createTopics(java.util.List.of(new org.apache.kafka.clients.admin.NewTopic(topic, partitions, (short) 1)))
                    .all().get(timeoutMs, TimeUnit.MILLISECONDS);
            LOG.info("created topic {} ({} partitions)", topic, partitions);
            return true;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException) {
                return true;
            }
            LOG.warn("topic {} at {} neither exists nor could be created ({})", topic, bootstrap, e.toString());
            return false;
        }
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KafkaClients.class);

    /** Admin client settings with short timeouts, with the user's client settings applied last. */
    public static Properties admin(String bootstrap, long timeoutMs, Properties client) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(timeoutMs));
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(timeoutMs));
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        return withClient(props, client);
    }
}
