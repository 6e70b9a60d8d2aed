package dev.exegpt.job.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.JobID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.KafkaBroker;
import dev.exegpt.job.kafka.KafkaBrokerExtension;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.schemas.InferenceResult;

/**
 * Exactly-once on a real standalone cluster: a JobManager and two TaskManagers, each its own JVM, run the job
 * (checkpoints plus transactional Kafka sinks) while 10,000 requests arrive; one TaskManager is killed with SIGKILL
 * mid-run. After recovery every request id is in the results exactly once (read committed), replayed results name
 * a later attempt, and their latency, measured from the request's Kafka timestamp, includes the outage.
 */
@ExtendWith(KafkaBrokerExtension.class)
class TaskManagerKillIT {

    private static final int NUM_REQUESTS = Integer.getInteger("exegpt.it.cluster.requests", 10_000);
    private static final double RATE_PER_SECOND = Double.parseDouble(System.getProperty("exegpt.it.cluster.rate", "150"));

    @Test
    void shouldAnswerEveryRequestExactlyOnceWhenATaskManagerIsKilled(KafkaBroker broker) throws Exception {
        Path model = ClusterJobHarness.tinyModel();
        Map<String, String> topics = new HashMap<>();
        for (String t : Topics.all()) {
            topics.put(t, broker.freshTopic(t));
        }
        JobConfig config = ClusterJobHarness.jobConfig(broker.bootstrapServers(), topics, model, 2);
        Path workDir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "cluster-it-").toAbsolutePath();
        ClusterOptions options = new ClusterOptions(workDir, Path.of("..", "flink-conf"), 2, 2, 0, 768, null,
                ClusterOptions.DEFAULT_START_TIMEOUT_MS, Map.of());
        try (LocalFlinkCluster cluster = LocalFlinkCluster.start(options);
             ClusterJobHarness.Collector collector = new ClusterJobHarness.Collector(broker.bootstrapServers(), topics.get(Topics.RESULTS))) {
            ClusterRest rest = cluster.rest();
            JobID job = ClusterSubmission.submit(ClusterSubmission.Address.parse(cluster.restAddress()), FlinkJars.jobJar(null),
                    ClusterJobHarness.clientConfiguration(), config, dev.exegpt.job.pipeline.ExegptJob.settings(config));
            awaitAllTasksRunning(rest, job.toHexString(), 120_000);

            long killAtMs;
            long rerunningAtMs;
            long tasksRunningAtMs;
            long firstReplayedSeenMs;
            long sendStartMs = System.currentTimeMillis();
            try (ClusterJobHarness.Sender sender = new ClusterJobHarness.Sender(broker.bootstrapServers(), topics.get(Topics.REQUESTS),
                    NUM_REQUESTS, RATE_PER_SECOND)) {
                // Kill once results are being committed and most requests are still to come or in flight.
                awaitCount(collector, NUM_REQUESTS / 20, 180_000);
                assertEquals(2, cluster.taskManagerPids().size(), "two TaskManagers before the kill");
                // Kill one that runs tasks of the job: the scheduler may have put every subtask on one TaskManager.
                Set<String> busy = rest.taskManagersRunning(job.toHexString());
                assertFalse(busy.isEmpty(), "no TaskManager runs a task of job " + job);
                String victim = busy.iterator().next();
                long pid = cluster.taskManagerPid(victim).orElseThrow(() -> new AssertionError("no live TaskManager " + victim));
                killAtMs = System.currentTimeMillis();
                ProcessHandle.of(pid).orElseThrow().destroyForcibly();        // SIGKILL
                System.out.printf("killed %s (pid %d; TaskManagers running tasks: %s) at %d with %d results committed, %d requests sent%n",
                        victim, pid, busy, killAtMs, collector.numDistinct(), sender.numSent());
                awaitEntered(rest, job.toHexString(), "RESTARTING", killAtMs, 60_000);
                rerunningAtMs = awaitEntered(rest, job.toHexString(), "RUNNING", killAtMs, 120_000);
                awaitAllTasksRunning(rest, job.toHexString(), 120_000);
                tasksRunningAtMs = System.currentTimeMillis();
                sender.await(600_000);
                collector.awaitDistinct(NUM_REQUESTS, 240_000);
                firstReplayedSeenMs = collector.inOrder().stream().filter(s -> s.result().getAttempt() > 1)
                        .mapToLong(ClusterJobHarness.Seen::seenAtMs).min().orElse(-1);
            }
            String jobState = rest.jobState(job.toHexString());
            rest.cancel(job.toHexString());

            // Exactly once: every id, none twice, in the topic as a fresh read-committed consumer reads it.
            Map<String, Integer> counts = ClusterJobHarness.countCommittedById(broker.bootstrapServers(), topics.get(Topics.RESULTS));
            ClusterJobHarness.Tally tally = ClusterJobHarness.Tally.of(counts, NUM_REQUESTS);
            // Replayed results name the attempt that produced them, and their latency includes the outage.
            List<InferenceResult> replayed = new ArrayList<>();
            long numBeforeKillReplayed = 0;
            double maxReplayedE2eMs = 0;
            List<String> dishonest = new ArrayList<>();
            for (ClusterJobHarness.Seen s : collector.inOrder()) {
                InferenceResult r = s.result();
                if (r.getAttempt() > 1) {
                    replayed.add(r);
                    if (s.recordTimestampMs() < killAtMs) {
                        numBeforeKillReplayed++;
                        maxReplayedE2eMs = Math.max(maxReplayedE2eMs, r.getLatency().getEndToEndMs());
                        // Produced by a task started after the kill, timed from the request's Kafka timestamp.
                        double waitedAtLeastMs = killAtMs - s.recordTimestampMs();
                        if (r.getLatency().getEndToEndMs() < waitedAtLeastMs
                                || r.getLatency().getCompletedEpochMs() < killAtMs) {
                            dishonest.add(r.getRequestId() + " e2e " + r.getLatency().getEndToEndMs() + " ms, sent "
                                    + (killAtMs - s.recordTimestampMs()) + " ms before the kill");
                        }
                    }
                }
            }
            double p50UnaffectedMs = percentile(collector.inOrder().stream().filter(s -> s.result().getAttempt() == 1)
                    .mapToDouble(s -> s.result().getLatency().getEndToEndMs()).sorted().toArray(), 0.5);
            String figures = String.format("TaskManager SIGKILL, %d requests at %.0f/s on 2 TaskManagers x 2 slots: "
                            + "kill -> job RUNNING again (JobManager timestamp) %.1f s, kill -> all tasks RUNNING again %.1f s, kill -> first committed result of attempt >= 2 %.1f s; "
                            + "lost %d, duplicated %d; results of attempt >= 2: %d (%d of requests sent before the kill, max end-to-end %.0f ms); "
                            + "p50 end-to-end of attempt-1 results %.0f ms; last result committed %.0f s after the first request was sent",
                    NUM_REQUESTS, RATE_PER_SECOND, (rerunningAtMs - killAtMs) / 1e3, (tasksRunningAtMs - killAtMs) / 1e3, (firstReplayedSeenMs - killAtMs) / 1e3,
                    tally.missing().size(), tally.duplicated().size(), replayed.size(), numBeforeKillReplayed, maxReplayedE2eMs, p50UnaffectedMs,
                    (collector.inOrder().stream().mapToLong(ClusterJobHarness.Seen::seenAtMs).max().orElse(sendStartMs) - sendStartMs) / 1e3);
            System.out.println(figures);
            Files.writeString(Path.of("target", "cluster-it-taskmanager-kill.txt"), figures + System.lineSeparator());

            assertEquals("RUNNING", jobState, "the job runs again after the kill");
            tally.assertExactlyOnce(NUM_REQUESTS);
            assertTrue(numBeforeKillReplayed > 0, "some requests sent before the kill were answered by a later attempt");
            assertTrue(dishonest.isEmpty(), "replayed latencies must include the outage: " + dishonest.stream().limit(10).toList());
            assertTrue(firstReplayedSeenMs > killAtMs, "results resumed after the kill");
        }
    }

    /**
     * Waits until the job has entered {@code state} at or after {@code sinceMs} (from the job's state timestamps, which
     * a short RESTARTING cannot slip past) and returns when it did, by the JobManager's clock.
     */
    static long awaitEntered(ClusterRest rest, String jobId, String state, long sinceMs, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        String last = "?";
        while (System.currentTimeMillis() < deadline) {
            try {
                long at = rest.stateEnteredAtMs(jobId, state);
                if (at >= sinceMs) {
                    return at;
                }
                last = rest.jobState(jobId);
            } catch (java.io.IOException notYet) {
                last = notYet.getMessage();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("job " + jobId + " did not enter " + state + " within " + timeoutMs + " ms; state now: " + last);
    }

    static void awaitAllTasksRunning(ClusterRest rest, String jobId, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!rest.allTasksRunning(jobId)) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("the tasks of job " + jobId + " were not all RUNNING within " + timeoutMs + " ms");
            }
            Thread.sleep(50);
        }
    }

    static void awaitCount(ClusterJobHarness.Collector collector, int count, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (collector.numDistinct() < count) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("only " + collector.numDistinct() + " results within " + timeoutMs + " ms, expected " + count);
            }
            Thread.sleep(100);
        }
    }

    private static double percentile(double[] sorted, double q) {
        return sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
    }
}
