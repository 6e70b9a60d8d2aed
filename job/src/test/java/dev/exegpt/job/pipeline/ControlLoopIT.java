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
import dev.exegpt.scheduler.search.Plan;
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
 * The control loop closes through the real broker and MiniCluster: the job starts with a schedule planned on a
 * profile that says the machine is three times faster than it is (as after profiling on a quiet machine that then got
 * busy); the executors publish their steps, the loop fits the profile to them, finds the running schedule over the
 * SLO, publishes a new version with the reason, and the executors adopt it: later requests are answered under it.
 * Every request is answered once.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ControlLoopIT {

    private static final int NUM_REQUESTS = 160;
    private static final double OPTIMISM = 3;

    @Test
    void aScheduleThatMissesOnTheMachineAsItIsIsReplacedWhileTheJobRuns(KafkaBroker broker) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "control-loop-it"));
        Path model = dir.resolve("model");
        CheckpointWriter.writeRandom(model, ModelSize.TINY.config(Architecture.T5), 23);
        ProfileGrid grid = new ProfileGrid(List.of(1), List.of(1, 4, 16), List.of(16, 64, 128), 2048, List.of(1, 8, 32),
                List.of(16, 64, 128), 1, 3, 500, 1);
        Profile measured = new XProfiler(model, grid, new PrintStream(OutputStream.nullOutputStream())).run();
        Profile optimistic = ProfileScaling.scaled(measured, 1 / OPTIMISM, 1 / OPTIMISM, "as if 3x faster");
        Path profile = dir.resolve("profile-optimistic.json");
        Files.writeString(profile, ProfileCodec.toJson(optimistic));

        Scenario scenario = new Scenario(new ProfiledCostModel(ProfileCodec.toTable(optimistic), DeviceSpec.A100_80GB), 1,
                DeviceSpec.A100_80GB.devicesPerNode(), Workloads.byName("S"), SimOptions.DEFAULTS);
        XScheduler planner = new XScheduler(new XSimulator(scenario));
        double slo = 4 * planner.plan(Double.POSITIVE_INFINITY, List.of(Policy.RRA)).fastest().latencyMs();
        Plan plan = planner.plan(slo, List.of(Policy.RRA));
        Schedule planned = ScheduleCodec.fromPlan(plan, new ScheduleCodec.Origin("control-it", "cpu:1", "S", System.currentTimeMillis()));
        Path scheduleFile = dir.resolve("schedule.json");
        ScheduleCodec.write(planned, scheduleFile);

        Map<String, String> topics = new HashMap<>();
        for (String t : Topics.all()) {
            topics.put(t, broker.freshTopic(t));
        }
        Map<String, String> settings = JobIt.settings(broker, topics, model);
        settings.put("schedule.file", scheduleFile.toString());
        settings.put("control.profile", profile.toString());
        settings.put("control.interval.ms", "1000");
        settings.put("control.dwell.ms", "5000");
        settings.put("task.slo.ms.S", Long.toString((long) Math.ceil(slo)));
        JobConfig config = JobConfig.load(null, settings);
        Configuration flink = ExegptJob.flinkConfiguration(Path.of("..", "flink-conf"));
        flink.setString("execution.checkpointing.interval", "1s");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, flink);
        ExegptJob.addStreamingJob(env, config, ExegptJob.settings(config));
        JobClient job = env.executeAsync("control-loop-it");
        AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        List<InferenceResult> results;
        List<Schedule> decided;
        long t0 = System.currentTimeMillis();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(broker.bootstrapServers(), "control-it"))) {
            for (int i = 0; i < NUM_REQUESTS / 2; i++) {
                JobIt.send(producer, topics.get(Topics.REQUESTS), codec.encode(request(i)));
            }
            // The loop decides within a bounded time of the steps it needs: a second per flush, per tick and per interval.
            decided = JobIt.readUntil(broker, topics.get(Topics.SCHEDULES), Schedule.getClassSchema(),
                    l -> l.stream().anyMatch(s -> s.getNotes().containsKey("control.reason")));
            for (int i = NUM_REQUESTS / 2; i < NUM_REQUESTS; i++) {
                JobIt.send(producer, topics.get(Topics.REQUESTS), codec.encode(request(i)));
            }
            results = JobIt.readAll(broker, topics.get(Topics.RESULTS), InferenceResult.getClassSchema(), NUM_REQUESTS);
        } finally {
            job.cancel().get();
        }
        long seconds = (System.currentTimeMillis() - t0) / 1000;

        Set<String> ids = new HashSet<>();
        for (InferenceResult r : results) {
            assertTrue(ids.add(r.getRequestId()), "answered once: " + r.getRequestId());
        }
        assertEquals(NUM_REQUESTS, ids.size());
        Schedule v2 = decided.stream().filter(s -> s.getNotes().containsKey("control.reason")).findFirst()
                .orElseThrow(() -> new AssertionError("no schedule decided by the control loop in " + seconds + " s: " + decided));
        assertEquals(planned.getVersion() + 1, v2.getVersion());
        String reason = v2.getNotes().get("control.reason");
        assertTrue(reason.contains("over the SLO"), reason);
        String fit = v2.getNotes().get("control.fit");
        double decode = Double.parseDouble(fit.replaceAll(".*decode x([0-9.]+).*", "$1"));
        assertTrue(decode > 1.5, "the fit saw the engine slower than the profile: " + fit);
        assertEquals(planned.getPolicy(), v2.getPolicy(), "the engines' layout is kept");
        assertTrue(v2.getPredictedLatencyMs() <= slo, "the new schedule meets the SLO on the fitted profile: " + v2);
        long underV2 = results.stream().filter(r -> r.getScheduleVersion() == v2.getVersion()).count();
        assertTrue(underV2 >= NUM_REQUESTS / 2, "the requests sent after the decision were answered under it: " + underV2);
        System.out.printf("control loop: v%d -> v%d in a run of %d s: %s; fit %s; planned in %s ms; %d of %d requests under v%d%n",
                planned.getVersion(), v2.getVersion(), seconds, reason, fit, v2.getNotes().get("control.planMs"), underV2,
                NUM_REQUESTS, v2.getVersion());
    }

    private static InferenceRequest request(int i) {
        List<Integer> prompt = new ArrayList<>();
        for (int t = 0; t < 24 + i % 40; t++) {
            prompt.add(100 + 31 * i + t);
        }
        return InferenceRequest.newBuilder().setRequestId("c" + i).setTask("S").setPromptTokenIds(prompt)
                .setMaxNewTokens(8 + i % 16).setIgnoreEos(true).build();
    }
}
