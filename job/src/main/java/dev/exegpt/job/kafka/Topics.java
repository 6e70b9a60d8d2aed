package dev.exegpt.job.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.ExecutorSteps;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * The topics of an ExeGPT deployment and the Avro record each one carries. Values are plain Avro binary of the
 * schema under {@code schemas/} (no registry framing); keys are the request id (or schedule id) as UTF-8.
 */
public final class Topics {

    public static final String REQUESTS = "exegpt.requests";
    public static final String RESULTS = "exegpt.results";
    public static final String DEAD_LETTER = "exegpt.deadletter";
    public static final String AUDIT = "exegpt.audit";
    public static final String SCHEDULES = "exegpt.schedules";
    public static final String STEPS = "exegpt.steps";

    /** Partitions of the data topics: they carry the job's source and sink parallelism. */
    public static final int DEFAULT_PARTITIONS = 4;

    private static final Map<String, Schema> VALUE_SCHEMAS = Map.of(
            REQUESTS, InferenceRequest.getClassSchema(),
            RESULTS, InferenceResult.getClassSchema(),
            DEAD_LETTER, DeadLetter.getClassSchema(),
            AUDIT, AuditWindow.getClassSchema(),
            SCHEDULES, Schedule.getClassSchema(),
            STEPS, ExecutorSteps.getClassSchema());

    private Topics() {}

    /** The standard topics, in the order they are created. */
    public static List<String> all() {
        return List.of(REQUESTS, RESULTS, DEAD_LETTER, AUDIT, SCHEDULES, STEPS);
    }

    /**
     * The Avro schema of a topic's values: the standard topics by name, and any other topic by its prefix
     * ({@code exegpt.results.<suffix>} carries results), so that per-test and per-run topics work too.
     */
    public static Schema valueSchema(String topic) {
        for (String standard : all()) {
            if (topic.equals(standard) || topic.startsWith(standard + ".") || topic.startsWith(standard + "-")) {
                return VALUE_SCHEMAS.get(standard);
            }
        }
        throw new IllegalArgumentException("topic " + topic + " is not an exegpt topic: expected one of " + all()
                + " (or one of them followed by '.' or '-' and a suffix)");
    }

    /**
     * Waits until every partition of the topics has a leader: a producer that writes to a partition still electing
     * one gets retriable errors, and an idempotent producer's retries can then fail with out-of-order sequences.
     */
    private static void awaitLeaders(Admin admin, List<String> topics) throws InterruptedException, TimeoutException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            try {
                boolean ready = admin.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS).values().stream()
                        .allMatch(d -> d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
                if (ready) {
                    return;
                }
            } catch (ExecutionException notYetVisible) {
                // The topic's metadata has not reached the broker yet: ask again.
            }
            if (System.currentTimeMillis() > deadline) {
                throw new TimeoutException("partitions of " + topics + " have no leader after 30 s");
            }
            Thread.sleep(50);
        }
    }

    /**
     * Creates the given topics if they do not exist (idempotent). Schedules keep one partition so that every
     * executor sees versions in order; the others get {@code partitions}.
     */
    public static void create(Admin admin, List<String> topics, int partitions) {
        List<NewTopic> wanted = new ArrayList<>();
        for (String topic : topics) {
            int n = topic.startsWith(SCHEDULES) ? 1 : partitions;
            wanted.add(new NewTopic(topic, n, (short) 1));
        }
        try {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            wanted.removeIf(t -> existing.contains(t.name()));
            if (wanted.isEmpty()) {
                return;
            }
            admin.createTopics(wanted).all().get(30, TimeUnit.SECONDS);
            awaitLeaders(admin, wanted.stream().map(NewTopic::name).toList());
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("could not create topics " + topics + ": " + e.getCause().getMessage(), e);
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("could not create topics " + topics + ": the broker did not answer in 30 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }
}
