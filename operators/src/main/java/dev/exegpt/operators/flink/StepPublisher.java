package dev.exegpt.operators.flink;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.runner.EngineStep;
import dev.exegpt.schemas.ExecutorSteps;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.StepPhase;
import dev.exegpt.schemas.StepRecord;

/**
 * Publishes an executor's engine steps to the steps topic, about once a second, for the job's control loop. The
 * engine thread only queues a step; a thread of its own sends. Observations are best effort: a send that fails is
 * logged and dropped, and never fails the executor.
 */
final class StepPublisher implements Consumer<EngineStep>, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StepPublisher.class);
    static final long FLUSH_MS = 1_000;
    private static final int MAX_QUEUED = 100_000;

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final String executorId;
    private final String role;
    private final String layout;
    private final int attempt;
    private final Supplier<Schedule> schedule;
    private final ConcurrentLinkedQueue<EngineStep> queued = new ConcurrentLinkedQueue<>();
    private final AvroBinary<ExecutorSteps> codec = new AvroBinary<>(ExecutorSteps.getClassSchema());
    private final ScheduledExecutorService flusher;
    private volatile boolean warned;

    StepPublisher(StepTopic to, String executorId, String role, String layout, int attempt, Supplier<Schedule> schedule) {
        Properties props = new Properties();
        props.putAll(to.producer());
        props.put("key.serializer", ByteArraySerializer.class.getName());
        props.put("value.serializer", ByteArraySerializer.class.getName());
        props.putIfAbsent("client.id", "exegpt-steps-" + executorId);
        props.putIfAbsent("linger.ms", "50");
        this.producer = new KafkaProducer<>(props);
        this.topic = to.topic();
        this.executorId = executorId;
        this.role = role;
        this.layout = layout;
        this.attempt = attempt;
        this.schedule = schedule;
        this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "exegpt-steps-" + executorId);
            t.setDaemon(true);
            return t;
        });
        flusher.scheduleWithFixedDelay(this::flush, FLUSH_MS, FLUSH_MS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void accept(EngineStep step) {
        if (queued.size() < MAX_QUEUED) queued.add(step);
    }

    /** One record with the steps queued since the last one; none when there are none. */
    void flush() {
        List<StepRecord> steps = new ArrayList<>();
        for (EngineStep s; (s = queued.poll()) != null; ) {
            List<Integer> lengths = new ArrayList<>(s.inputTokens().length);
            for (int len : s.inputTokens()) lengths.add(len);
            steps.add(new StepRecord(s.kind() == EngineStep.Kind.ENCODE ? StepPhase.ENCODE : StepPhase.DECODE, s.startEpochMs(),
                    s.endEpochMs(), lengths, s.numContextTokens()));
        }
        if (steps.isEmpty()) return;
        Schedule s = schedule.get();
        ExecutorSteps record = new ExecutorSteps(executorId, role, s.getScheduleId(), s.getVersion(), layout, attempt, steps);
        try {
            producer.send(new ProducerRecord<>(topic, executorId.getBytes(StandardCharsets.UTF_8), codec.encode(record)), (m, e) -> {
                if (e != null && !warned) {
                    warned = true;
                    LOG.warn("executor {}: engine steps not published to {} ({}); the control loop sees fewer steps", executorId, topic,
                            e.toString());
                }
            });
        } catch (RuntimeException e) {
            if (!warned) {
                warned = true;
                LOG.warn("executor {}: engine steps not published to {} ({})", executorId, topic, e.toString());
            }
        }
    }

    @Override
    public void close() {
        flusher.shutdownNow();
        try {
            flush();
        } finally {
            producer.close(java.time.Duration.ofSeconds(5));
        }
    }
}
