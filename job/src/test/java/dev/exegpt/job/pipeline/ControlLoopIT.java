package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.KafkaBroker;
import dev.exegpt.job.kafka.KafkaBrokerExtension;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.profile.ProfileGrid;
import dev.exegpt.runtime.profile.XProfiler;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.cost.fit.ProfileScaling;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.Schedule;

/**
 * The control loop closes through the real broker and MiniCluster: the job starts under a cautious schedule (one
 * request at a time) with a profile that says the machine is six times faster than it is; the
 * executors publish their steps, the loop fits the profile to them, prices the running schedule on the fitted profile
 * at the observed rate, publishes a new version with the reason (throughput unused within the SLO, or the SLO missed
 * from arrival), and the executors adopt it: later requests are answered under it. Every request is answered once.
 * (Which reason is the machine's: a stream the job can feed is far below the tiny model's capacity, where the loop
 * judges from arrival, and in four runs here the event simulator found no rate from 4 to 30 requests/s at which a
 * schedule planned on the optimistic profile for the SLO missed it and another met it. A miss on a slowed machine and
 * the way back are {@code ControlLoopTest}'s.)
 */
@ExtendWith(KafkaBrokerExtension.class)
class ControlLoopIT {

    private static final int NUM_REQUESTS = 160;
    private static final double OPTIMISM = 6;

    @Test
    void aCautiousScheduleIsReplannedOnTheProfileFittedToTheEngineWhileTheJobRuns(KafkaBroker broker) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "control-loop-it"));
        Path model = model(dir);
        Profile measured = profile(model);
        Profile optimistic = ProfileScaling.scaled(measured, 1 / OPTIMISM, 1 / OPTIMISM, "as if 6x faster");
        Path profile = dir.resolve("profile-optimistic.json");
        Files.writeString(profile, ProfileCodec.toJson(optimistic));

        // The job's SLO is four times a one-at-a-time schedule's latency on the machine as it is, and it starts under
        // the most cautious schedule there is, one request at a time (RRA B_E=1, N_D=512): throughput unused, or, if
        // the stream is too much for it, the SLO missed from arrival. (A fixed candidate's latency, not the search's
        // fastest at an infinite bound: four times that came to 18 ms in one run here and 157-170 ms in others.)
        double slo = 4 * oneAtATimeMs(measured);
        double rate = 10;
        Schedule planned = ScheduleCodec.fromEstimate(simulator(optimistic).estimate(
                        dev.exegpt.scheduler.plan.Candidate.rra(1, 1, 512, 1, 0)),
                new ScheduleCodec.Origin("control-it", "cpu:1", "S", System.currentTimeMillis()), slo, Map.of());
        Path scheduleFile = dir.resolve("schedule.json");
        ScheduleCodec.write(planned, scheduleFile);

        Map<String, String> topics = new HashMap<>();
        JobClient job = start(broker, topics, model, scheduleFile, profile, slo);
        AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        List<InferenceResult> results;
        List<Schedule> decided;
        long t0 = System.currentTimeMillis();
        long decidedAt;
        int numAfter = (int) Math.max(NUM_REQUESTS / 2, 5 * rate);         // five seconds of the stream, at least 80
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger lastToSend = new java.util.concurrent.atomic.AtomicInteger(Integer.MAX_VALUE);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(broker.bootstrapServers(), "control-it"))) {
            // A stream, as a user's: the loop fits and acts on what it measures after its warm-up (ControlLoop.WARM_UP_MS).
            // Outputs of task S's distribution: others read as a drift, and the loop then judges the running schedule
            // on the outputs it sees (a CI run, with outputs of half the mean, found it within the SLO so).
            dev.exegpt.scheduler.workload.Workload taskS = Workloads.byName("S");
            java.util.random.RandomGenerator lengths = java.util.random.RandomGeneratorFactory.of("L64X128MixRandom").create(11);
            java.util.concurrent.CompletableFuture<Void> sending = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    long start = System.nanoTime();
                    for (int i = 0; i <= lastToSend.get() && i < 6_000; ) {
                        // Each tick sends what the rate owes by now, then waits for the broker's acknowledgements.
                        long due = (long) (rate * (System.nanoTime() - start) / 1e9) + 1;
                        for (; i < due && i <= lastToSend.get(); i++) {
                            byte[] r = codec.encode(request(i, taskS.sample(lengths).numOutputTokens()));
                            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topics.get(Topics.REQUESTS),
                                    ("c" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), r));
                            sent.incrementAndGet();
                        }
                        producer.flush();
                        Thread.sleep(20);
                    }
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            // The loop decides within a bounded time of the steps it needs: its warm-up, then a second per flush, per
            // tick and per interval.
            decided = JobIt.readUntil(broker, topics.get(Topics.SCHEDULES), Schedule.getClassSchema(),
                    l -> l.stream().anyMatch(s -> s.getNotes().containsKey("control.reason")));
            decidedAt = System.currentTimeMillis();
            lastToSend.set(sent.get() + numAfter - 1);
            sending.get(120, java.util.concurrent.TimeUnit.SECONDS);
            results = JobIt.readAll(broker, topics.get(Topics.RESULTS), InferenceResult.getClassSchema(), sent.get());
        } finally {
            job.cancel().get();
        }
        long seconds = (System.currentTimeMillis() - t0) / 1000;

        Set<String> ids = new HashSet<>();
        for (InferenceResult r : results) {
            assertTrue(ids.add(r.getRequestId()), "answered once: " + r.getRequestId());
        }
        assertEquals(sent.get(), ids.size(), "none lost");
        Schedule v2 = decided.stream().filter(s -> s.getNotes().containsKey("control.reason")).findFirst()
                .orElseThrow(() -> new AssertionError("no schedule decided by the control loop in " + seconds + " s: " + decided));
        assertEquals(planned.getVersion() + 1, v2.getVersion());
        String reason = v2.getNotes().get("control.reason");
        // Whichever the fitted profile gives at the observed rate (run to run here, the fit put the running schedule
        // under the SLO with throughput unused, or over it at 9.5 requests/s): the new one is better by the reason's
        // own measure.
        boolean unused = reason.contains("leaves throughput unused");
        assertTrue(unused || reason.contains("over the SLO"), reason);
        String fit = v2.getNotes().get("control.fit");
        double decode = Double.parseDouble(fit.replaceAll(".*decode x([0-9.]+).*", "$1"));
        // Over 1.5, not 6: the measured profile itself is up to 2.5x slower than the engine serving one request at a
        // time (fits of x1.20-3.97 against a profile made three times too fast in eight runs here, x2.65-4.04 against
        // six times).
        assertTrue(decode > 1.5, "the fit saw the engine slower than the profile: " + fit);
        assertEquals(planned.getPolicy(), v2.getPolicy(), "the engines' layout is kept");
        String p99 = v2.getNotes().get("control.p99E2eMs");
        assertTrue(p99 != null, "priced from arrival at the observed rate: " + v2);
        if (unused) {
            // "... leaves throughput unused: R against B requests/s", both on the fitted profile
            double runningPerSecond = Double.parseDouble(reason.replaceAll(".*unused: ([0-9.]+) against.*", "$1"));
            assertTrue(v2.getPredictedSequencesPerSecond() > 1.15 * runningPerSecond, "more throughput on the fitted profile: " + v2);
            assertTrue(Double.parseDouble(p99) <= slo, "and it meets the SLO from arrival: " + v2);
        } else {
            // "... is predicted at p99 N ms from arrival, over the SLO": the new one's p99 is lower by more than the band
            double runningP99 = Double.parseDouble(reason.replaceAll(".*is predicted at p99 ([0-9.]+) ms.*", "$1"));
            assertTrue(Double.parseDouble(p99) <= slo || Double.parseDouble(p99) < 0.95 * runningP99,
                    "it meets the SLO from arrival, or is clearly faster from arrival than the running one: " + v2);
        }
        // Under it or a later version: a stream gives the loop time for another decision (back, once it fits better).
        long underV2 = results.stream().filter(r -> r.getScheduleVersion() >= v2.getVersion()).count();
        assertTrue(underV2 >= numAfter, "the requests sent after the decision were answered under it or a later one: "
                + underV2 + "; versions " + decided.stream().map(s -> s.getVersion() + " " + s.getNotes().get("control.reason")).toList());
        System.out.printf("control loop: v%d -> v%d in a run of %d s at %.0f requests/s (evenly spaced): %s; fit %s; planned in %s ms; %d of %d"
                        + " requests under v%d; attainment of the requests that arrived before the decision %s, after %s%n",
                planned.getVersion(), v2.getVersion(), seconds, rate, reason, fit, v2.getNotes().get("control.planMs"), underV2,
                sent.get(), v2.getVersion(), attainment(results, r -> r.getLatency().getArrivedEpochMs() < decidedAt),
                attainment(results, r -> r.getLatency().getArrivedEpochMs() >= decidedAt));
    }

    /**
     * The paper's distribution shift (§7.6), mid-stream: the job was planned for task S (outputs of mean 32 tokens) and
     * requests arrive at a steady rate, first with task S's lengths, then with outputs of twice that. After enough
     * finished requests of the new lengths the drift detector fires, the loop re-plans for the observed lengths while
     * requests are in flight, and the requests after it are answered under the new version; none is lost or repeated.
     * The note prints the re-plan's cost: planning time, requests in flight at the switch, attainment before and after.
     */
    @Test
    void outputLengthsThatDriftMidStreamMakeTheLoopPlanAgainWithRequestsInFlight(KafkaBroker broker) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "control-loop-it-drift"));
        Path model = model(dir);
        Profile measured = profile(model);
        Path profile = dir.resolve("profile.json");
        Files.writeString(profile, ProfileCodec.toJson(measured));
        XScheduler planner = planner(measured);
        // A loose bound: the schedule may also be re-planned for the engine as it runs; the drift is one reason of a decision.
        double slo = 20 * oneAtATimeMs(measured);
        Schedule planned = ScheduleCodec.fromPlan(planner.plan(slo, List.of(Policy.RRA)),
                new ScheduleCodec.Origin("drift-it", "cpu:1", "S", System.currentTimeMillis()));
        Path scheduleFile = dir.resolve("schedule.json");
        ScheduleCodec.write(planned, scheduleFile);
        Map<String, String> topics = new HashMap<>();
        JobClient job = start(broker, topics, model, scheduleFile, profile, slo);
        AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        int numTaskS = 120, numAfter = 60;
        double rate = 15;                                          // requests/s, well within the tiny model's capacity
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger lastToSend = new java.util.concurrent.atomic.AtomicInteger(Integer.MAX_VALUE);
        List<InferenceResult> results;
        List<Schedule> decided;
        long t0 = System.currentTimeMillis();
        long decidedAt;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(broker.bootstrapServers(), "drift-it"))) {
            java.util.concurrent.CompletableFuture<Void> sending = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i <= lastToSend.get() && i < 2_000; i++) {
                        int output = i < numTaskS ? 16 + i % 32 : 56 + i % 24;          // mean 31.5, then 67.5
                        JobIt.send(producer, topics.get(Topics.REQUESTS), codec.encode(request(i, output)));
                        sent.incrementAndGet();
                        Thread.sleep((long) (1000 / rate));
                    }
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            decided = JobIt.readUntil(broker, topics.get(Topics.SCHEDULES), Schedule.getClassSchema(),
                    l -> l.stream().anyMatch(s -> s.getNotes().getOrDefault("control.reason", "").contains("drifted")));
            decidedAt = System.currentTimeMillis();
            lastToSend.set(sent.get() + numAfter - 1);
            sending.get(120, java.util.concurrent.TimeUnit.SECONDS);
            results = JobIt.readAll(broker, topics.get(Topics.RESULTS), InferenceResult.getClassSchema(), sent.get());
        } finally {
            job.cancel().get();
        }
        int numSent = sent.get();
        Set<String> ids = new HashSet<>();
        for (InferenceResult r : results) {
            assertTrue(ids.add(r.getRequestId()), "answered once: " + r.getRequestId());
        }
        assertEquals(numSent, ids.size(), "none lost");
        Schedule v2 = decided.stream().filter(s -> s.getNotes().getOrDefault("control.reason", "").contains("drifted")).findFirst()
                .orElseThrow(() -> new AssertionError("the drift detector did not fire: " + decided));
        long underNew = results.stream().filter(r -> r.getScheduleVersion() >= v2.getVersion()).count();
        List<InferenceResult> inFlight = results.stream().filter(r -> r.getLatency().getArrivedEpochMs() <= decidedAt
                && r.getLatency().getCompletedEpochMs() >= decidedAt).toList();
        assertTrue(underNew >= numAfter, "the requests after the re-plan ran under it: " + underNew);
        assertTrue(numSent > numTaskS, "the switch came after the task-S requests: " + numSent);
        assertTrue(!inFlight.isEmpty(), "requests were in flight when the new schedule came");
        double planMs = Double.parseDouble(v2.getNotes().get("control.planMs"));
        assertTrue(planMs < 1_000, "re-planning is fast enough to run often: " + planMs + " ms");
        System.out.printf("drift: v%d after %.0f s (%d requests sent, %d of task S): %s; planned in %.0f ms; %d requests in flight at"
                        + " the switch (none lost or repeated: %d answered once each); attainment before %s, after %s; %d under v%d%n",
                v2.getVersion(), (decidedAt - t0) / 1000.0, numSent, numTaskS, v2.getNotes().get("control.reason"), planMs,
                inFlight.size(), ids.size(), attainment(results, r -> r.getLatency().getArrivedEpochMs() < decidedAt),
                attainment(results, r -> r.getLatency().getArrivedEpochMs() >= decidedAt), underNew, v2.getVersion());
    }

    /** Attainment from arrival (the job's sloMet) of the results {@code which} selects, as "97.5% (39 of 40)". */
    static String attainment(List<InferenceResult> results, java.util.function.Predicate<InferenceResult> which) {
        List<InferenceResult> chosen = results.stream().filter(which).toList();
        long met = chosen.stream().filter(r -> Boolean.TRUE.equals(r.getSloMet())).count();
        return chosen.isEmpty() ? "n/a" : String.format(java.util.Locale.ROOT, "%.1f%% (%d of %d)", 100.0 * met / chosen.size(),
                met, chosen.size());
    }

    static Path model(Path dir) throws Exception {
        return model(dir, ModelSize.TINY);
    }

    /** A T5 checkpoint of {@code size} with seeded random weights in dir/model. */
    static Path model(Path dir, ModelSize size) throws Exception {
        Path model = dir.resolve("model");
        CheckpointWriter.writeRandom(model, size.config(Architecture.T5), 23);
        return model;
    }

    /** The tiny model's profile on this machine, on a small grid (a device of one kernel thread, as the job runs it). */
    static Profile profile(Path model) throws Exception {
        return profile(model, 1);
    }

    /** The same with {@code threads} kernel threads per device. */
    static Profile profile(Path model, int threads) throws Exception {
        // 3 s of JIT warm-up (0.5 s before): the profiles of 0.5 s put the same one-at-a-time schedule 9x apart from
        // one run to the next, and one fitted the engine at x1.40 against a profile made three times too fast.
        ProfileGrid grid = new ProfileGrid(List.of(1), List.of(1, 4, 16), List.of(16, 64, 128), 2048, List.of(1, 8, 32),
                List.of(16, 64, 128), 1, 3, 3_000, threads);
        return new XProfiler(model, grid, new PrintStream(OutputStream.nullOutputStream())).run();
    }

    static XScheduler planner(Profile profile) {
        return new XScheduler(simulator(profile));
    }

    /** A bound-length output's latency under RRA B_E=1, N_D=8 (one request encoded at a time) on {@code profile}, ms. */
    static double oneAtATimeMs(Profile profile) {
        return simulator(profile).estimate(dev.exegpt.scheduler.plan.Candidate.rra(1, 1, 8, 1, 0)).latencyMs();
    }

    /** Task S on one device of {@code profile}. */
    static XSimulator simulator(Profile profile) {
        return new XSimulator(new Scenario(new ProfiledCostModel(ProfileCodec.toTable(profile), DeviceSpec.A100_80GB), 1,
                DeviceSpec.A100_80GB.devicesPerNode(), Workloads.byName("S"), SimOptions.DEFAULTS));
    }

    /** The streaming job on fresh topics (filled into {@code topics}) with the control loop on {@code profile}. */
    static JobClient start(KafkaBroker broker, Map<String, String> topics, Path model, Path scheduleFile, Path profile,
                                   double slo) throws Exception {
        return start(broker, topics, model, scheduleFile, profile, slo, Map.of());
    }

    /** The same, with {@code extra} job settings on top. */
    static JobClient start(KafkaBroker broker, Map<String, String> topics, Path model, Path scheduleFile, Path profile,
                           double slo, Map<String, String> extra) throws Exception {
        for (String t : Topics.all()) {
            topics.put(t, broker.freshTopic(t));
        }
        Map<String, String> settings = JobIt.settings(broker, topics, model);
        settings.put("schedule.file", scheduleFile.toString());
        settings.put("control.profile", profile.toString());
        settings.put("control.interval.ms", "1000");
        settings.put("control.dwell.ms", "5000");
        settings.put("task.slo.ms.S", Long.toString((long) Math.ceil(slo)));
        settings.putAll(extra);
        JobConfig config = JobConfig.load(null, settings);
        Configuration flink = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));
        flink.setString("execution.checkpointing.interval", "1s");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, flink);
        ExegptJob.addStreamingJob(env, config, ExegptJob.settings(config));
        return env.executeAsync("control-loop-it");
    }

    static InferenceRequest request(int i, int outputTokens) {
        List<Integer> prompt = new ArrayList<>();
        for (int t = 0; t < 24 + i % 40; t++) {
            prompt.add(100 + 31 * i + t);
        }
        return InferenceRequest.newBuilder().setRequestId("c" + i).setTask("S").setPromptTokenIds(prompt)
                .setMaxNewTokens(outputTokens).setIgnoreEos(true).build();
    }
}
