package dev.exegpt.job.pipeline;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import dev.exegpt.job.kafka.KafkaBroker;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.schemas.InferenceRequest;

/** Set-up shared by the streaming job's ITs: job settings for a broker and fresh topics, sending, reading back. */
final class JobIt {

    private JobIt() {}

    /** Job settings for the tiny model on {@code broker}'s fresh {@code topics}; the summarization SLO is 60 s. */
    static Map<String, String> settings(KafkaBroker broker, Map<String, String> topics, Path model) {
        Map<String, String> p = new HashMap<>();
        p.put("kafka.bootstrap", broker.bootstrapServers());
        p.put("kafka.group.id", "it-" + System.nanoTime());
        p.put("topic.requests", topics.get(Topics.REQUESTS));
        p.put("topic.results", topics.get(Topics.RESULTS));
        p.put("topic.deadletter", topics.get(Topics.DEAD_LETTER));
        p.put("topic.audit", topics.get(Topics.AUDIT));
        p.put("topic.schedules", topics.get(Topics.SCHEDULES));
        p.put("topic.steps", topics.get(Topics.STEPS));
        p.put("model.dir", model.toString());
        p.put("model.backend", "cpu");
        p.put("executor.threads.per.device", "1");
        p.put("executor.warmup.ms", "0");
        p.put("schedule.encode.batch", "4");
        p.put("schedule.decode.iterations", "3");
        p.put("task.slo.ms.summarization", "60000");
        p.put("audit.window.ms", "1000");
        return p;
    }

    /** Sends one request keyed by its id and waits for the broker's acknowledgement. */
    static void send(KafkaProducer<byte[], byte[]> producer, String topic, byte[] request) throws Exception {
        String id = new AvroBinary<InferenceRequest>(InferenceRequest.getClassSchema()).decode(request).getRequestId();
        producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), request)).get();
    }

    /** Reads committed records until {@code atLeast} arrived (or 180 s passed), then 3 s more to catch duplicates. */
    static <T extends SpecificRecord> List<T> readAll(KafkaBroker broker, String topic, Schema schema, int atLeast)
            throws Exception {
        AvroBinary<T> codec = new AvroBinary<>(schema);
        List<T> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(broker.bootstrapServers(), "read-" + topic))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 180_000;
            while (out.size() < atLeast && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    out.add(codec.decode(record.value()));
                }
            }
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofSeconds(3))) {
                out.add(codec.decode(record.value()));
            }
        }
        return out;
    }

    /** Reads committed records until {@code done} says so (or 60 s passed). */
    static <T extends SpecificRecord> List<T> readUntil(KafkaBroker broker, String topic, Schema schema,
                                                        java.util.function.Predicate<List<T>> done) throws Exception {
        AvroBinary<T> codec = new AvroBinary<>(schema);
        List<T> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(broker.bootstrapServers(), "read-" + topic))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 60_000;
            while (!done.test(out) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    out.add(codec.decode(record.value()));
                }
            }
        }
        return out;
    }
}
