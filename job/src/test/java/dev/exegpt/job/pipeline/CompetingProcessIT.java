package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.exegpt.job.kafka.KafkaBroker;
import dev.exegpt.job.kafka.KafkaBrokerExtension;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.core.ControlLoops;
import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.control.ControlLoop;
import dev.exegpt.scheduler.cost.fit.ProfileScaling;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.schemas.ExecutorSteps;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.Schedule;

/**
 * The machine changes under a streaming job: a real CPU-bound process (a shell busy loop, one of the two cores) starts in
 * the middle of the run. The control loop sees the engine's steps slow down, re-plans within the bound this test
 * states, and the requests it accepts after the re-plan meet their SLO again; when the process stops, the loop moves
 * back to a higher-throughput schedule. Every request is answered once. The profile the job starts from is the tiny
 * model's, fitted first by the loop of a short job on the same machine, so that the loop starts near x1 and the SLO
 * (four times the fastest schedule's latency) is one the quiet machine can meet with room.
 */
@ExtendWith(KafkaBrokerExtension.class)
class CompetingProcessIT {

    /** From the competitor's start to the re-plan: steps flush each second, the loop decides every 5 s, its window of 400
     * steps a phase must turn over (the small model runs tens of steps a second), and a change made just before the
     * competitor started holds for the 15 s dwell. */
    private static final long REPLAN_WITHIN_MS = 45_000;
    /** From the competitor's end to the move back: steps of the slow machine leave the fit after 20 s, plus the dwell. */
    private static final long BACK_WITHIN_MS = 90_000;
    /**
     * The SLO: this many times the fastest schedule's latency on the fitted profile: room for a busy loop's 1.5-2x, and
     * tight enough that the best schedule's throughput moves with the engine's speed. At 4x the schedules the loop took
     * under the competitor (x1.5-1.7) served within 10% of the quiet machine's best, so that none was "clearly" worth
     * leaving when the competitor stopped (2026-12-08).
     */
    private static final double SLO_TIMES = 2.5;

    @Test
    @org.junit.jupiter.api.Disabled("not yet a test of the loop alone: on 2026-12-08 (a quiet machine, four runs) the small model's"
            + " decode fit read x0.92-1.17 at decisions on the quiet machine and x1.09-1.57 beside the busy loop, ranges that"
            + " overlap, and the loop changed schedule on the quiet machine too (two versions before the competitor in one run),"
            + " so a re-plan after the competitor's start could not be told from that noise; one run of the four passed"
            + " (re-plan 4.9 s, 100% of 48 accepted after it, back 12.9 s), the others failed to move back (4x SLO: the"
            + " overload schedules within 10% of the quiet best) or flapped. Not run since its cadence became the job's"
            + " (5 s, dwell 15 s). Run it by hand: -Dit.test=CompetingProcessIT"
            + " -Djunit.jupiter.conditions.deactivate=org.junit.*DisabledCondition")
    void aCompetingProcessMakesTheLoopReplanAndItsEndMakesItMoveBack(KafkaBroker broker) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "competing-process-it"));
        // The small model, not the tiny one: a tiny model's plan serves 40-125 requests/s, so the 12/s this test can offer
        // (above it the broker's and Flink's own work slowed the engine) was 10-30% of it, and a busy loop that halved
        // the engine's speed left the running schedule within the SLO: nothing to re-plan (2026-12-07, 23:27 UTC).
        Path model = ControlLoopIT.model(dir, dev.exegpt.runtime.weights.ModelSize.SMALL);
        // The job's one device takes both cores (two kernel threads), as the demo's does: a busy loop then takes one of them.
        Profile measured = ControlLoopIT.profile(model, 2);
        int[] outputs = new int[200];
        for (int i = 0; i < outputs.length; i++) {
            outputs[i] = 16 + i % 32;                               // task S's mean, within the tiny model's positions
        }
        double[] factors = fitInTheJob(broker, dir, model, measured, outputs, SLO_TIMES);
        Profile fitted = ProfileScaling.scaled(measured, factors[0], factors[1], "fitted in the job");
        Path profile = dir.resolve("profile-fitted.json");
        Files.writeString(profile, ProfileCodec.toJson(fitted));
        XScheduler planner = ControlLoopIT.planner(fitted);
        double slo = SLO_TIMES * planner.plan(Double.POSITIVE_INFINITY, List.of(Policy.RRA)).fastest().latencyMs();
        Plan plan = planner.plan(slo, List.of(Policy.RRA));
        Schedule planned = ScheduleCodec.fromPlan(plan, new ScheduleCodec.Origin("competitor-it", "cpu:1", "S", System.currentTimeMillis()));
        Path scheduleFile = dir.resolve("schedule.json");
        ScheduleCodec.write(planned, scheduleFile);
        double rate = offeredRate(planned);

        Map<String, String> topics = new HashMap<>();
        JobClient job = ControlLoopIT.start(broker, topics, model, scheduleFile, profile, slo, Map.of("admission.mode", "reject-late",
                "executor.threads.per.device", "2",
                // The job's own cadence (a decision every 5 s, a change kept 15 s), not ControlLoopIT's 1 s and 5 s: at a
                // 5 s dwell the loop went through five schedules in 33 s, its decode fit at x0.93-1.57.
                "control.interval.ms", "5000", "control.dwell.ms", "15000"));
        AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        AtomicBoolean stopSending = new AtomicBoolean();
        AtomicInteger sent = new AtomicInteger();
        List<Seen> decisions = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean stopReading = new AtomicBoolean();
        Process competitor = null;
        long tStart, tReplan, tStop, tBack;
        Seen replan, back;
        List<InferenceResult> results;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(broker.bootstrapServers(), "competitor-it"))) {
            CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> send(producer, topics.get(Topics.REQUESTS), codec, outputs,
                    rate, 5, stopSending, sent));
            CompletableFuture<Void> reading = CompletableFuture.runAsync(() -> readSchedules(broker, topics.get(Topics.SCHEDULES),
                    decisions, stopReading));
            // The loop settles on the quiet machine: its 15 s warm-up and 15 s of fitted decisions, then no decision for the
            // last 15 s (at most 90 s in all).
            long settleBy = System.currentTimeMillis() + 90_000;
            Thread.sleep((long) ControlLoop.WARM_UP_MS + 15_000);
            while (System.currentTimeMillis() < settleBy && lastSeenMs(decisions) > System.currentTimeMillis() - 15_000) {
                Thread.sleep(1_000);
            }

            System.out.println("competitor: before the competitor: " + decisions);
            tStart = System.currentTimeMillis();
            competitor = new ProcessBuilder("sh", "-c", "while :; do :; done").start();
            replan = await(decisions, s -> s.seenMs > tStart + 2_000 && s.reason().contains("over the SLO"), tStart + REPLAN_WITHIN_MS);
            System.out.println("competitor: started at " + tStart + ": " + decisions);
            assertTrue(replan != null, "no re-plan within " + REPLAN_WITHIN_MS + " ms of the competitor's start: " + decisions);
            tReplan = replan.seenMs;
            Thread.sleep(20_000);                                                   // served under the re-plan, competitor on

            stop(competitor);
            tStop = System.currentTimeMillis();
            // Moving back: a schedule after the competitor's end that serves more requests/s than the re-plan's, both priced on
            // the one profile the job started from. (The predictions in two versions, made on two fits, do not compare: the
            // decode fit read x1.09-1.57 beside the busy loop. Nor is the reason always "unused": a
            // move back 5 s after the end was made because the overload schedule's queue was still over the SLO.)
            XSimulator onFitted = ControlLoopIT.simulator(fitted);
            double replanned = throughput(onFitted, replan.schedule);
            back = await(decisions, s -> s.seenMs > tStop && throughput(onFitted, s.schedule) > replanned, tStop + BACK_WITHIN_MS);
            assertTrue(back != null, "no move back to a higher-throughput schedule within " + BACK_WITHIN_MS
                    + " ms of the competitor's end: " + decisions);
            tBack = back.seenMs;
            stopSending.set(true);
            sending.get(30, TimeUnit.SECONDS);
            results = JobIt.readAll(broker, topics.get(Topics.RESULTS), InferenceResult.getClassSchema(), sent.get());
            stopReading.set(true);
            reading.get(30, TimeUnit.SECONDS);
        } finally {
            stop(competitor);
            job.cancel().get();
        }

        Set<String> ids = new HashSet<>();
        for (InferenceResult r : results) {
            assertTrue(ids.add(r.getRequestId()), "answered once: " + r.getRequestId());
        }
        assertEquals(sent.get(), ids.size(), "none lost");
        // The windows after the re-plan, while the competitor still ran: the accepted requests meet their SLO again.
        long from = tReplan + 2_000;
        List<String> windows = new ArrayList<>();
        long met = 0, accepted = 0, refused = 0;
        for (long w = from; w < tStop; w += 5_000) {
            long lo = w, hi = Math.min(w + 5_000, tStop);
            List<InferenceResult> in = results.stream().filter(r -> r.getLatency().getArrivedEpochMs() >= lo
                    && r.getLatency().getArrivedEpochMs() < hi).toList();
            long a = in.stream().filter(r -> r.getFinishReason() != FinishReason.DEADLINE).count();
            long m = in.stream().filter(r -> Boolean.TRUE.equals(r.getSloMet())).count();
            windows.add(String.format(Locale.ROOT, "%d/%d", m, a));
            met += m;
            accepted += a;
            refused += in.size() - a;
        }
        double attainment = accepted == 0 ? 0 : (double) met / accepted;
        System.out.printf("competitor: the job's fit of the profile: encode x%.2f, decode x%.2f%n", factors[0], factors[1]);
        System.out.printf("competitor: SLO %.0f ms, offered %.1f requests/s (60%% of the plan %s, at most 12); re-plan %.1f s after the"
                        + " competitor started (v%d: %s; fit %s; planned in %s ms); after it, accepted requests' attainment %.1f%%"
                        + " (met/accepted per 5 s window: %s; %d refused); back %.1f s after it stopped (v%d %s, %.2f -> %.2f"
                        + " requests/s on the job's starting profile: %s); %d requests, each answered once%n", slo, rate, planned.getPolicy(),
                (tReplan - tStart) / 1000.0, replan.schedule.getVersion(), replan.reason(), replan.schedule.getNotes().get("control.fit"),
                replan.schedule.getNotes().get("control.planMs"), 100 * attainment, windows, refused, (tBack - tStop) / 1000.0,
                back.schedule.getVersion(), describe(back.schedule), throughput(ControlLoopIT.simulator(fitted), replan.schedule),
                throughput(ControlLoopIT.simulator(fitted), back.schedule), back.reason(), ids.size());
        results.stream().filter(r -> r.getLatency().getArrivedEpochMs() >= from && r.getLatency().getArrivedEpochMs() < tStop
                && r.getFinishReason() == FinishReason.DEADLINE).limit(3)
                .forEach(r -> System.out.println("competitor: refused after the re-plan: " + r.getErrorMessage()));
        assertTrue(accepted > 0, "requests were accepted after the re-plan");
        assertTrue(attainment >= 0.9, "attainment of the accepted requests after the re-plan: " + 100 * attainment + "% " + windows);
    }

    /**
     * The job's own fit of {@code measured}: a first job runs the schedule planned on it at {@code sloTimes} times the
     * fastest schedule's latency, offered the same share of its plan as the test will offer, for
     * {@value #FIT_RUN_MS} ms; its engine steps (the steps topic) are then fitted as the loop fits them. Returns {encode,
     * decode}. (Before, the factors were read off the first decision of a job at batch 1; the engine then ran the test's
     * larger batches at another x1.88 of that fit on a quiet machine, so that the test's schedule missed before any
     * competitor started.)
     */
    private static double[] fitInTheJob(KafkaBroker broker, Path dir, Path model, Profile measured, int[] outputs, double sloTimes)
            throws Exception {
        XScheduler planner = ControlLoopIT.planner(measured);
        double slo = sloTimes * planner.plan(Double.POSITIVE_INFINITY, List.of(Policy.RRA)).fastest().latencyMs();
        Schedule s = ScheduleCodec.fromPlan(planner.plan(slo, List.of(Policy.RRA)),
                new ScheduleCodec.Origin("fit-it", "cpu:1", "S", System.currentTimeMillis()));
        Path scheduleFile = dir.resolve("schedule-fit.json");
        ScheduleCodec.write(s, scheduleFile);
        Path profile = dir.resolve("profile-measured.json");
        Files.writeString(profile, ProfileCodec.toJson(measured));
        double rate = offeredRate(s);
        Map<String, String> topics = new HashMap<>();
        JobClient job = ControlLoopIT.start(broker, topics, model, scheduleFile, profile, slo, Map.of("executor.threads.per.device", "2"));
        AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        AvroBinary<ExecutorSteps> stepsCodec = new AvroBinary<>(ExecutorSteps.getClassSchema());
        List<ExecutorSteps> steps = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(broker.bootstrapServers(), "fit-it"));
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(broker.bootstrapServers(), "fit-it-steps"))) {
            CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> send(producer, topics.get(Topics.REQUESTS), codec, outputs,
                    rate, 0, stop, new AtomicInteger()));
            consumer.subscribe(List.of(topics.get(Topics.STEPS)));
            long until = System.currentTimeMillis() + FIT_RUN_MS;
            while (System.currentTimeMillis() < until) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    steps.add(stepsCodec.decode(record.value()));
                }
            }
            stop.set(true);
            sending.get(30, TimeUnit.SECONDS);
        } finally {
            stop.set(true);
            job.cancel().get();
        }
        // At least 10 steps a phase (the loop's 50 would leave the rare encode steps of a 40 s run at x1).
        ControlLoop.Settings d = ControlLoop.Settings.DEFAULTS;
        ControlLoop fit = ControlLoops.forRunningJob(profile, s, slo, new ControlLoop.Settings(d.intervalMs(), d.minDwellMs(), 10,
                d.windowSteps(), d.trim(), d.gainToSwitch(), d.rateWindowMs(), d.driftWindow(), d.maxFactor(), d.missBand()));
        steps.forEach(x -> ControlLoops.observe(fit, x));
        fit.fitSteps();
        System.out.printf("competitor: the fit job ran %s at %.2f requests/s; %d step records; fit encode x%.2f, decode x%.2f%n",
                describe(s), rate, steps.size(), fit.encodeFactor(), fit.decodeFactor());
        return new double[] {fit.encodeFactor(), fit.decodeFactor()};
    }

    /** The fit job's run: the loop's 15 s warm-up, then 25 s of steps that are fitted. */
    private static final long FIT_RUN_MS = 40_000;

    /**
     * 60% of the schedule's planned throughput, at most 12 requests/s: each request also costs the broker and Flink some
     * CPU, and at 26/s (30% of a plan of 112/s) that cost alone slowed the engine's steps further as the loop cut the
     * batches. At 60% an engine slowed 1.7x or more by the busy loop is past the running schedule's capacity, which the
     * loop must see; at 30% it stayed within the SLO.
     */
    private static double offeredRate(Schedule s) {
        return Math.min(12, 0.6 * s.getPredictedSequencesPerSecond());
    }

    /** Sends requests at Poisson arrivals of {@code rate} until {@code stop}, counting them in {@code sent}. */
    private static void send(KafkaProducer<byte[], byte[]> producer, String topic, AvroBinary<InferenceRequest> codec, int[] outputs,
                             double rate, long seed, AtomicBoolean stop, AtomicInteger sent) {
        java.util.Random random = new java.util.Random(seed);
        try {
            for (int i = 0; !stop.get(); i++) {
                JobIt.send(producer, topic, codec.encode(ControlLoopIT.request(i, outputs[i % outputs.length])));
                sent.incrementAndGet();
                Thread.sleep((long) (-Math.log(1 - random.nextDouble()) * 1000 / rate));
            }
        } catch (Exception e) {
            throw new CompletionException(e);
        }
    }

    /** A schedule read back from the schedules topic, and when. */
    private record Seen(Schedule schedule, long seenMs) {
        String reason() {
            return schedule.getNotes().getOrDefault("control.reason", "");
        }

        @Override
        public String toString() {
            return "\nv" + schedule.getVersion() + " at " + seenMs + " " + describe(schedule) + " (" + schedule.getNotes().get("control.fit")
                    + ", predicted " + String.format(Locale.ROOT, "%.2f", schedule.getPredictedSequencesPerSecond()) + "/s): " + reason();
        }
    }

    private static String describe(Schedule s) {
        return String.format(Locale.ROOT, "%s B_E=%d N_D=%d", s.getPolicy(), s.getEncodeBatchSize(), s.getDecodeIterationsPerEncode());
    }

    private static void readSchedules(KafkaBroker broker, String topic, List<Seen> into, AtomicBoolean stop) {
        AvroBinary<Schedule> codec = new AvroBinary<>(Schedule.getClassSchema());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(broker.bootstrapServers(), "read-" + topic))) {
            consumer.subscribe(List.of(topic));
            while (!stop.get()) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    into.add(new Seen(codec.decode(record.value()), System.currentTimeMillis()));
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Seen await(List<Seen> seen, java.util.function.Predicate<Seen> which, long deadlineMs) throws InterruptedException {
        while (System.currentTimeMillis() < deadlineMs) {
            synchronized (seen) {
                for (Seen s : seen) {
                    if (which.test(s)) return s;
                }
            }
            Thread.sleep(200);
        }
        return null;
    }

    /** The schedule's requests/s at saturation on {@code sim}'s profile. */
    private static double throughput(XSimulator sim, Schedule s) {
        return sim.estimate(ScheduleCodec.toCandidate(s)).sequencesPerSecond();
    }

    private static long lastSeenMs(List<Seen> seen) {
        synchronized (seen) {
            return seen.stream().mapToLong(Seen::seenMs).max().orElse(0);
        }
    }

    private static void stop(Process p) throws InterruptedException {
        if (p != null && p.isAlive()) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
