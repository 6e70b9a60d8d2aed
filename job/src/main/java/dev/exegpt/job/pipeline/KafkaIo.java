package dev.exegpt.job.pipeline;

import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.core.Oversize;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.operators.flink.RawRecordDeserializer;
import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.InferenceResult;

/**
 * The job's Kafka sources and sinks: raw request records in (decoded by the pipeline, so a bad record becomes a dead
 * letter instead of a failed source), schedules in, Avro records out keyed by request id. With exactly-once the
 * sinks write in Kafka transactions committed on checkpoints; consumers must read committed records.
 */
public final class KafkaIo {

    /** Kafka's default cap on transaction timeouts is 15 min; the sink's own default (1 h) would be refused. */
    static final String TRANSACTION_TIMEOUT_MS = "600000";

    private KafkaIo() {}

    /**
     * Requests as raw records, committed ones only: a producer that aborts its transaction takes its requests back,
     * and nothing of an aborted transaction is run (or billed).
     */
    public static KafkaSource<RawRecord> requests(String bootstrap, String topic, String groupId, Properties security) {
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new RawRecordDeserializer())
                .setProperties(readCommitted(security))
                .build();
    }

    /** The client settings plus {@code isolation.level=read_committed}, which a setting of the user's cannot undo. */
    static Properties readCommitted(Properties security) {
        Properties props = new Properties();
        props.putAll(security);
        props.setProperty("isolation.level", "read_committed");
        return props;
    }

    /**
     * Schedules as raw records (committed ones only), from the start of the topic: decoded and checked by
     * {@code ValidateScheduleFunction}, so that one the job cannot run becomes a dead letter, not a failed job.
     */
    public static KafkaSource<RawRecord> schedules(String bootstrap, String topic, String groupId, Properties security) {
        return raw(bootstrap, topic, groupId, OffsetsInitializer.earliest(), readCommitted(security));
    }

    /**
     * The executors' engine steps for the control loop, from the newest (old steps say nothing about the machine now);
     * raw, so that a record that does not decode is skipped by the loop rather than failing the source.
     */
    public static KafkaSource<RawRecord> steps(String bootstrap, String topic, String groupId, Properties security) {
        return raw(bootstrap, topic, groupId, OffsetsInitializer.latest(), security);
    }

    private static KafkaSource<RawRecord> raw(String bootstrap, String topic, String groupId, OffsetsInitializer from,
                                              Properties props) {
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(from)
                .setDeserializer(new RawRecordDeserializer())
                .setProperties(props)
                .build();
    }

    /**
     * The job's own results read back (committed ones only), from which the length estimator learns each task's
     * observed output lengths.
     */
    public static KafkaSource<InferenceResult> resultsFeedback(String bootstrap, String topic, String groupId, Properties security) {
        Properties props = readCommitted(security);
        return KafkaSource.<InferenceResult>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new AvroDeserializer<>(InferenceResult.class, InferenceResult.getClassSchema()))
                .setProperties(props)
                .build();
    }

    /** A sink of Avro records keyed by {@code key}, transactional when {@code exactlyOnce}, records of at most 1 MiB. */
    public static <T extends SpecificRecord> KafkaSink<T> sink(String bootstrap, String topic, Schema schema,
                                                               SerializableKey<T> key, boolean exactlyOnce,
                                                               String transactionalIdPrefix, Properties security) {
        return sink(bootstrap, topic, schema, key, exactlyOnce, transactionalIdPrefix, security,
                KafkaClients.KAFKA_DEFAULT_MAX_RECORD_BYTES, null);
    }

    /**
     * A sink of Avro records keyed by {@code key}, transactional when {@code exactlyOnce}, whose producer may write
     * records up to {@code maxRecordBytes} (the topic's limit, {@link KafkaClients#maxRecordBytes}). A record whose
     * value would not fit goes through {@code fitter} first ({@link Oversize}), so the sink never throws on a record
     * that is too large; without a fitter it is written as it is.
     */
    public static <T extends SpecificRecord> KafkaSink<T> sink(String bootstrap, String topic, Schema schema,
                                                               SerializableKey<T> key, boolean exactlyOnce,
                                                               String transactionalIdPrefix, Properties security,
                                                               int maxRecordBytes, Fitter<T> fitter) {
        KafkaRecordSerializationSchema<T> serializer = KafkaRecordSerializationSchema.<T>builder()
                .setTopic(topic)
                .setKeySerializationSchema((SerializationSchema<T>) r -> key.apply(r).getBytes(StandardCharsets.UTF_8))
                .setValueSerializationSchema(new AvroSerializer<>(schema, topic,
                        maxRecordBytes - Oversize.RECORD_OVERHEAD_BYTES, fitter))
                .build();
        Properties producer = new Properties();
        producer.putAll(security);
        producer.setProperty("max.request.size", Integer.toString(maxRecordBytes));
        long bufferMemory = Math.max(32L << 20, 2L * maxRecordBytes);
        if (security.getProperty("buffer.memory") == null) {
            producer.setProperty("buffer.memory", Long.toString(bufferMemory));
        }
        return KafkaSink.<T>builder()
                .setBootstrapServers(bootstrap)
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(exactlyOnce ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .setProperty("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS)
                .setKafkaProducerConfig(producer)
                .build();
    }

    /** Cuts a record to a size ({@link Oversize#fit}); serializable, so a sink can carry it to the task managers. */
    public interface Fitter<T> extends java.io.Serializable {
        T fit(T record, int maxBytes, Oversize.Sizer<T> size);
    }

    /** Results cut to fit: metadata, then output text, then token ids; flagged {@code truncated}. */
    public static Fitter<InferenceResult> resultFitter() {
        return (r, maxBytes, size) -> Oversize.fit(r, maxBytes, size);
    }

    /** Dead letters cut to fit: value, then key; original sizes and the value's SHA-256 kept. */
    public static Fitter<DeadLetter> deadLetterFitter() {
        return (d, maxBytes, size) -> Oversize.fit(d, maxBytes, size);
    }

    /** The record key as a string (request id, schedule id, audit key). */
    public interface SerializableKey<T> extends Function<T, String>, java.io.Serializable {}

    /**
     * Plain Avro binary of a record (no registry framing), the format of every exegpt topic; a value over
     * {@code maxValueBytes} is cut to fit by the fitter, when there is one, and logged.
     */
    static final class AvroSerializer<T extends SpecificRecord> implements SerializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private static final Logger LOG = LoggerFactory.getLogger(AvroSerializer.class);
        private final String schemaJson;
        private final String topic;
        private final int maxValueBytes;
        private final Fitter<T> fitter;
        private transient AvroBinary<T> codec;

        AvroSerializer(Schema schema) {
            this(schema, "", Integer.MAX_VALUE, null);
        }

        AvroSerializer(Schema schema, String topic, int maxValueBytes, Fitter<T> fitter) {
            this.schemaJson = schema.toString();
            this.topic = topic;
            this.maxValueBytes = maxValueBytes;
            this.fitter = fitter;
        }

        @Override
        public byte[] serialize(T record) {
            if (codec == null) {
                codec = new AvroBinary<>(new Schema.Parser().parse(schemaJson));
            }
            byte[] bytes = codec.encode(record);
            if (bytes.length <= maxValueBytes || fitter == null) {
                return bytes;
            }
            T fitted = fitter.fit(record, maxValueBytes, r -> codec.encode(r).length);
            byte[] cut = codec.encode(fitted);
            LOG.warn("a {} of {} bytes is over {}'s limit of {} bytes: written cut to {} bytes and flagged truncated",
                    record.getSchema().getName(), bytes.length, topic, maxValueBytes, cut.length);
            return cut;
        }
    }

    /** Reads Avro records of one schema; a record that does not decode is logged and skipped, never failing the job. */
    static final class AvroDeserializer<T extends SpecificRecord> implements KafkaRecordDeserializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private static final Logger LOG = LoggerFactory.getLogger(AvroDeserializer.class);
        private final Class<T> type;
        private final String schemaJson;
        private transient AvroBinary<T> codec;

        AvroDeserializer(Class<T> type, Schema schema) {
            this.type = type;
            this.schemaJson = schema.toString();
        }

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<T> out) {
            if (codec == null) {
                codec = new AvroBinary<>(new Schema.Parser().parse(schemaJson));
            }
            try {
                out.collect(codec.decode(record.value()));
            } catch (java.io.IOException | RuntimeException e) {
                LOG.warn("skipping record {}-{}@{}: not a {} ({})", record.topic(), record.partition(), record.offset(),
                        type.getSimpleName(), e.getMessage());
            }
        }

        @Override
        public TypeInformation<T> getProducedType() {
            return TypeInformation.of(type);
        }
    }
}
