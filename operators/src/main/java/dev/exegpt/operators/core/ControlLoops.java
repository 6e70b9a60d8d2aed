package dev.exegpt.operators.core;

import java.nio.file.Path;
import java.util.List;

import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.control.ControlLoop;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.cost.fit.MeasuredStep;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.ExecutorSteps;
import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.StepPhase;
import dev.exegpt.schemas.StepRecord;

/**
 * The job's {@link ControlLoop} made from what the job knows (the profile file and the schedule in force) and fed from
 * what the executors publish (their {@link ExecutorSteps}): used by the job's control-loop function and by any reader of
 * the steps topic that wants the same fit (the demo's closing figures).
 */
public final class ControlLoops {

    private ControlLoops() {}

    /**
     * The loop for a running job: the schedule's own bound ({@code sloMs} when it has none), its task's workload, its
     * policy only, the engines' layout kept ({@code fixedLayout}).
     */
    public static ControlLoop forRunningJob(Path profileFile, Schedule schedule, double sloMs, ControlLoop.Settings settings) {
        Profile profile = ProfileCodec.readProfile(profileFile);
        DeviceSpec device = DeviceSpec.forDeviceName(profile.getDeviceName());
        Scenario scenario = new Scenario(new ProfiledCostModel(ProfileCodec.toTable(profile), device),
                Math.max(1, schedule.getNumDevices()), device.devicesPerNode(), Workloads.byName(schedule.getTask()), SimOptions.DEFAULTS);
        double slo = schedule.getLatencyBoundMs() != null ? schedule.getLatencyBoundMs() : sloMs;
        Candidate running = ScheduleCodec.toCandidate(schedule);
        return new ControlLoop(profile, device, scenario, slo, List.of(running.policy()), running, settings, true);
    }

    /** Tells the loop every usable step of one executor's record (an unknown phase, no lengths, or an end before the start is skipped). */
    public static void observe(ControlLoop loop, ExecutorSteps s) {
        Role role = switch (s.getRole()) {
            case "ENCODER" -> Role.ENCODER;
            case "DECODER" -> Role.DECODER;
            default -> Role.FULL;
        };
        for (StepRecord r : s.getSteps()) {
            if (r.getPhase() == StepPhase.UNKNOWN || r.getInputTokens().isEmpty() || r.getEndEpochMs() < r.getStartEpochMs()) continue;
            int[] lengths = new int[r.getInputTokens().size()];
            for (int i = 0; i < lengths.length; i++) lengths[i] = r.getInputTokens().get(i);
            loop.observe(new MeasuredStep(r.getPhase() == StepPhase.ENCODE ? Phase.ENCODE : Phase.DECODE, r.getStartEpochMs(),
                    r.getEndEpochMs(), lengths, r.getNumContextTokens()), role);
        }
    }
}
