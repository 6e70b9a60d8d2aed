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

import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.operators.flink.RawRecordDeserializer;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * The job's Kafka sources and sinks: raw request records in (decoded by the pipeline, so a bad record becomes a dead
 * letter instead of a failed source), schedules in, Avro records out keyed by request id. With exactly-once the
 * sinks write in Kafka transactions committed on checkpoints; consumers must read committed records.
 */
public final class KafkaIo {

    /** Kafka's default cap on transaction timeouts is 15 min; the sink's own default (1 h) would be refused. */
    static final String TRANSACTION_TIMEOUT_MS = "600000";

    private KafkaIo() {}

    public static KafkaSource<RawRecord> requests(String bootstrap, String topic, String groupId, Properties security) {
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new RawRecordDeserializer())
                .setProperties(security)
                .build();
    }

    public static KafkaSource<Schedule> schedules(String bootstrap, String topic, String groupId, Properties security) {
        return KafkaSource.<Schedule>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new AvroDeserializer<>(Schedule.class, Schedule.getClassSchema()))
                .setProperties(security)
                .build();
    }

    /**
     * The job's own results read back (committed ones only), from which the length estimator learns each task's
     * observed output lengths.
     */
    public static KafkaSource<InferenceResult> resultsFeedback(String bootstrap, String topic, String groupId, Properties security) {
        Properties props = new Properties();
        props.putAll(security);
        props.setProperty("isolation.level", "read_committed");
        return KafkaSource.<InferenceResult>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new AvroDeserializer<>(InferenceResult.class, InferenceResult.getClassSchema()))
                .setProperties(props)
                .build();
    }

    /** A sink of Avro records keyed by {@code key}, transactional when {@code exactlyOnce}. */
    public static <T extends SpecificRecord> KafkaSink<T> sink(String bootstrap, String topic, Schema schema,
                                                               SerializableKey<T> key, boolean exactlyOnce,
                                                               String transactionalIdPrefix, Properties security) {
        KafkaRecordSerializationSchema<T> serializer = KafkaRecordSerializationSchema.<T>builder()
                .setTopic(topic)
                .setKeySerializationSchema((SerializationSchema<T>) r -> key.apply(r).getBytes(StandardCharsets.UTF_8))
                .setValueSerializationSchema(new AvroSerializer<>(schema))
                .build();
        return KafkaSink.<T>builder()
                .setBootstrapServers(bootstrap)
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(exactlyOnce ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .setProperty("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS)
                .setKafkaProducerConfig(security)
                .build();
    }

    /** The record key as a string (request id, schedule id, audit key). */
    public interface SerializableKey<T> extends Function<T, String>, java.io.Serializable {}

    /** Plain Avro binary of a record (no registry framing), the format of every exegpt topic. */
    static final class AvroSerializer<T extends SpecificRecord> implements SerializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private final String schemaJson;
        private transient AvroBinary<T> codec;

        AvroSerializer(Schema schema) {
            this.schemaJson = schema.toString();
        }

        @Override
        public byte[] serialize(T record) {
            if (codec == null) {
                codec = new AvroBinary<>(new Schema.Parser().parse(schemaJson));
            }
            return codec.encode(record);
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
