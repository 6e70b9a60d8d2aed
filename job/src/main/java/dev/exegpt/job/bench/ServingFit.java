package dev.exegpt.job.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.scheduler.cost.fit.StepFit;
import dev.exegpt.schemas.Profile;

/**
 * Fits a profile to its engine under serving. XProfiler times each entry as the median of a few repeats of one step,
 * with the JIT warm and nothing else running; a serving run is a long series of changing steps, and on a small CPU
 * machine some of them are slowed by what shares the cores (the collector, the compiler, the runner, the host), so the
 * mean step, which throughput depends on, is above the median step. Measured on T5-small, two cores: decode
 * iterations under serving took 1.3-1.6x the profile, summed, with a median of 1.2-1.3x and a tail past 2x (RRA,
 * STATIC and CONTINUOUS alike); encodes 0.8-1.3x.
 *
 * <p>So a bulk of the task's requests runs through the real {@link dev.exegpt.operators.runner.ExecutorRunner} on the
 * engine under one schedule, every step is priced by the profile ({@link StepFit}), and the profile's encode and
 * decode entries are scaled by measured / predicted, summed over the run ({@link StepFit#encodeFactor},
 * {@link StepFit#decodeFactor}). The requests are drawn with their own seed: the fit is not judged on the requests it was
 * fitted to.
 */
public final class ServingFit {

    /** How a fitted profile's device name begins its note. */
    public static final String NOTE_PREFIX = "fitted to serving";

    /** What one fitting run measured, and the factors it gives. */
    public record Factors(double encode, double decode, StepFit fit, String scheduleSpec, String task, int numRequests, long seed) {

        /** For the profile's device name and the logs. */
        public String note() {
            return String.format(Locale.ROOT, NOTE_PREFIX + ": encode x%.2f, decode x%.2f (%d requests of task %s under %s, seed %d)",
                    encode, decode, numRequests, task, scheduleSpec, seed);
        }

        /** {@code p} fitted to serving, the note in its device name. */
        public Profile applyTo(Profile p) {
            return fit.applyTo(p, note());
        }
    }

    private ServingFit() {}

    /**
     * Runs {@code numRequests} requests of {@code workload} in bulk under {@code scheduleSpec} (rra:B_E:N_D, static:B or
     * continuous) through {@code run}'s engine and fits {@code table} to what the steps took.
     */
    public static Factors measure(FidelityRun run, ProfileTable table, Workload workload, String scheduleSpec, int numRequests,
                           long seed) throws InterruptedException {
        XSimulator xsim = new XSimulator(new Scenario(new ProfiledCostModel(table, DeviceSpec.A100_80GB), 1, 1, workload,
                SimOptions.DEFAULTS));
        Candidate c = FidelityRun.candidate(scheduleSpec);
        Estimate est = xsim.estimate(c);
        if (!est.feasible()) {
            throw new IllegalArgumentException("fit schedule " + scheduleSpec + " is infeasible: " + est.infeasibleReason());
        }
        Schedule s = ScheduleCodec.fromEstimate(est, new ScheduleCodec.Origin(table.model().name(), "cpu:1", workload.name(),
                System.currentTimeMillis()), Double.POSITIVE_INFINITY, Map.of("fit", scheduleSpec));
        List<FidelityRun.Lengths> lengths = FidelityRun.sampleLikeEventSimulator(workload, numRequests, seed);
        FidelityRun.Measured m = run.measure(s, lengths, workload.boundOutputTokens());
        StepFit fit = StepFit.of(m.steps(), xsim.layout(c).encoder());
        return new Factors(fit.encodeFactor(), fit.decodeFactor(), fit, scheduleSpec, workload.name(), numRequests, seed);
    }
}
