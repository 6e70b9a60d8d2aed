package dev.exegpt.job.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.exegpt.job.kafka.RequestSender.Arrival;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.schemas.InferenceRequest;

/** Avro requests through a real broker come back exactly as sent: every one, once, field for field. */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaRoundTripIT {

    private static final int NUM_REQUESTS = 1_000;

    @Test
    void shouldReadBackExactlyTheRequestsSent(KafkaBroker broker) throws Exception {
        String topic = broker.freshTopic(Topics.REQUESTS);
        List<InferenceRequest> sent = IntStream.range(0, NUM_REQUESTS).mapToObj(KafkaRoundTripIT::request).toList();

        RequestSender.Report report = new RequestSender(KafkaClients.producer(broker.bootstrapServers(), "it-send"), topic)
                .send(sent.iterator(), Arrival.bulk(), progress -> {});
        assertEquals(NUM_REQUESTS, report.numSent());

        Map<String, InferenceRequest> received = new HashMap<>();
        List<String> duplicates = new ArrayList<>();
        AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(KafkaClients.consumer(broker.bootstrapServers(), "it-read-" + topic))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 60_000;
            while (received.size() < NUM_REQUESTS && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    InferenceRequest request = codec.decode(record.value());
                    assertEquals(request.getRequestId(), new String(record.key(), java.nio.charset.StandardCharsets.UTF_8),
                            "the record key is the request id");
                    if (received.put(request.getRequestId(), request) != null) {
                        duplicates.add(request.getRequestId());
                    }
                }
            }
            // Anything after the last expected record would be a duplicate too: poll once more.
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
                duplicates.add(codec.decode(record.value()).getRequestId());
            }
        }
        assertEquals(List.of(), duplicates, "no request may arrive twice");
        assertEquals(NUM_REQUESTS, received.size(), "every request must arrive");
        for (InferenceRequest request : sent) {
            assertEquals(request, received.get(request.getRequestId()), "request " + request.getRequestId() + " must be unchanged");
        }
    }

    /** Requests that use every field of the schema, optional ones included, with non-ASCII text. */
    private static InferenceRequest request(int i) {
        InferenceRequest.Builder b = InferenceRequest.newBuilder()
                .setRequestId("rt-" + i)
                .setTask(i % 2 == 0 ? "summarization" : "translation")
                .setMaxNewTokens(1 + i % 128)
                .setIgnoreEos(i % 3 == 0)
                .setMetadata(Map.of("client", "round-trip", "index", Integer.toString(i)));
        if (i % 5 == 0) {
            b.setPromptTokenIds(List.of(464, 2068, 7586, i));
        } else {
            b.setPromptText("Résumé " + i + ": the quick brown fox — 狐狸 — jumps over the lazy dog.");
        }
        if (i % 4 == 0) {
            b.setSloLatencyMs(1_000L + i).setDeadlineEpochMs(1_700_000_000_000L + i);
        }
        b.setClientSentEpochMs(1_700_000_000_000L);
        return b.build();
    }
}
