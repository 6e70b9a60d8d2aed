package dev.exegpt.job.kafka;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongUnaryOperator;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.schemas.InferenceRequest;

/**
 * Produces {@link InferenceRequest}s to a topic as Avro binary keyed by request id, either as fast as the broker
 * takes them (bulk) or open-loop at a Poisson rate: send times are drawn up front from exponential gaps and never
 * wait for acknowledgements, so a slow broker shows as a lower achieved rate, not as fewer arrivals.
 */
public final class RequestSender {

    /** How requests arrive: {@code requestsPerSecond == 0} means bulk (saturation). */
    public record Arrival(double requestsPerSecond, long seed) {
        public Arrival {
            if (!(requestsPerSecond >= 0) || Double.isInfinite(requestsPerSecond)) {
                throw new IllegalArgumentException("--rate must be a positive number of requests/s, got " + requestsPerSecond);
            }
        }

        public static Arrival bulk() {
            return new Arrival(0, 0);
        }

        public boolean isBulk() {
            return requestsPerSecond == 0;
        }
    }

    /** What a send achieved; the rate counts acknowledged requests over the time until the last acknowledgement. */
    public record Report(long numSent, long elapsedNanos) {
        public double requestsPerSecond() {
            return elapsedNanos == 0 ? 0 : numSent * 1e9 / elapsedNanos;
        }
    }

    /** Progress as the send goes: requests handed to the producer and acknowledged so far. */
    public record Progress(long numQueued, long numAcked, long elapsedNanos) {}

    private final Properties producerProps;
    private final String topic;

    public RequestSender(Properties producerProps, String topic) {
        this.producerProps = producerProps;
        this.topic = topic;
    }

    /**
     * Sends every request of {@code requests}, calling {@code onProgress} about once a second; returns once all are
     * acknowledged. The first failed send ends the run with {@link IllegalStateException} naming the request.
     */
    public Report send(Iterator<InferenceRequest> requests, Arrival arrival, Consumer<Progress> onProgress) {
        RandomGenerator gaps = RandomGeneratorFactory.of("L64X128MixRandom").create(arrival.seed());
        double[] nextSendOffsetNanos = {0};
        return sendAt(requests, i -> {
            if (!arrival.isBulk()) {
                nextSendOffsetNanos[0] += -Math.log(1 - gaps.nextDouble()) / arrival.requestsPerSecond() * 1e9;
            }
            return (long) nextSendOffsetNanos[0];
        }, onProgress);
    }

    /**
     * Sends the {@code i}-th request (from 0) of {@code requests} at {@code sendOffsetNanos.applyAsLong(i)} after the
     * start (non-decreasing; 0 for all is bulk), as {@link #send} does otherwise.
     */
    public Report sendAt(Iterator<InferenceRequest> requests, LongUnaryOperator sendOffsetNanos, Consumer<Progress> onProgress) {
        AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        AtomicLong acked = new AtomicLong();
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        long queued = 0;
        long startNanos = System.nanoTime();
        long nextProgressNanos = startNanos + TimeUnit.SECONDS.toNanos(1);
        try (Producer<byte[], byte[]> producer = new KafkaProducer<>(producerProps)) {
            while (requests.hasNext() && failure.get() == null) {
                InferenceRequest request = requests.next();
                waitUntil(startNanos + sendOffsetNanos.applyAsLong(queued));
                String id = request.getRequestId();
                byte[] key = id.getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(topic, key, codec.encode(request)), (metadata, error) -> {
                    if (error != null) {
                        failure.compareAndSet(null, new IllegalStateException(
                                "sending request " + id + " to " + topic + " failed: " + error.getMessage(), error));
                    } else {
                        acked.incrementAndGet();
                    }
                });
                queued++;
                long now = System.nanoTime();
                if (now >= nextProgressNanos) {
                    onProgress.accept(new Progress(queued, acked.get(), now - startNanos));
                    nextProgressNanos = now + TimeUnit.SECONDS.toNanos(1);
                }
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        long elapsed = System.nanoTime() - startNanos;
        onProgress.accept(new Progress(queued, acked.get(), elapsed));
        return new Report(acked.get(), elapsed);
    }

    private static void waitUntil(long deadlineNanos) {
        for (long left = deadlineNanos - System.nanoTime(); left > 0; left = deadlineNanos - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }
}
