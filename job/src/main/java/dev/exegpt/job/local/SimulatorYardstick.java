package dev.exegpt.job.local;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.exegpt.job.report.RunFigures;
import dev.exegpt.job.report.SloClock;
import dev.exegpt.operators.core.ControlLoops;
import dev.exegpt.scheduler.control.ControlLoop;
import dev.exegpt.scheduler.sim.EventSimulator;
import dev.exegpt.schemas.ExecutorSteps;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/** The demo's closing yardstick: what the event simulator, fitted to the run, says its requests could have had. */
public final class SimulatorYardstick {

    private SimulatorYardstick() {}

    /**
     * The run's goodput against what the event simulator says the best schedule of these engines delivers for the same
     * requests (their arrivals and lengths), on the profile fitted to the engine as it ran (the control loop's own fit,
     * made again here from the steps the executors published: the last 400 of each phase). The simulator has no
     * admission control: every request is served, and counts where it finishes within the SLO from arrival; so the
     * bound for any admission control is printed too (the offered rate, or the best schedule's throughput where lower).
     * Rates are per second of arrivals (first to last).
     */
    public static void print(PrintStream out, List<ExecutorSteps> steps, List<InferenceResult> answered,
                             Map<String, Integer> outputLengths, Path profile, Schedule schedule, long sloMs, RunFigures figures) {
        ControlLoop fit = ControlLoops.forRunningJob(profile, schedule, sloMs, ControlLoop.Settings.DEFAULTS);
        steps.forEach(s -> ControlLoops.observe(fit, s));
        long first = answered.stream().mapToLong(r -> r.getLatency().getArrivedEpochMs()).min().orElse(0);
        List<EventSimulator.GivenRequest> requests = answered.stream()
                .sorted(java.util.Comparator.comparingLong(r -> r.getLatency().getArrivedEpochMs()))
                .map(r -> new EventSimulator.GivenRequest(Math.max(1, r.getNumInputTokens()),
                        outputLengths.getOrDefault(r.getRequestId(), Math.max(1, r.getNumOutputTokens())),
                        r.getLatency().getArrivedEpochMs() - first))
                .toList();
        java.util.Optional<ControlLoop.Capacity> c = fit.capacity(requests);
        long met = answered.stream().filter(r -> Boolean.TRUE.equals(SloClock.ARRIVAL.met(r))).count();
        double goodput = figures.goodputPerSecond(SloClock.ARRIVAL);
        if (c.isEmpty()) {
            out.printf("  event simulator on the profile fitted to this run (%d step records): no schedule of these engines can run;"
                    + " goodput %.2f requests/s%n", steps.size(), goodput);
            return;
        }
        double spanS = c.get().spanMs() / 1000;
        out.printf("  event simulator on the profile fitted to this run (%d step records), the same %d requests, every one served: best"
                        + " %s; this run met the SLO for %d = %.0f%% of that%n", steps.size(), requests.size(), c.get().describe(), met,
                c.get().numMet() == 0 ? Double.NaN : 100.0 * met / c.get().numMet());
        double saturation = c.get().saturationPerSecond();
        String atSaturation = Double.isNaN(saturation)
                ? "no schedule meets the SLO at saturation, so the simulator's own"
                : String.format("or the best schedule's %.2f at saturation where lower, or the simulator's own where higher", saturation);
        out.printf("  its bound for any admission control: %.2f requests/s within the SLO (the offered %.2f, %s); this run's"
                        + " goodput %.2f = %.0f%% of that%n",
                c.get().boundPerSecond(), requests.size() / spanS, atSaturation, met / spanS,
                100 * met / spanS / c.get().boundPerSecond());
    }
}
