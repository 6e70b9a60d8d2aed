package dev.exegpt.job.cli;

import dev.exegpt.job.bench.FidelityRun;
import dev.exegpt.job.bench.ServingFit;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.profile.ProfileGrid;
import dev.exegpt.runtime.profile.XProfiler;
import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.EventSimulator;
import dev.exegpt.scheduler.sim.Pipeline;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.SimResult;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.scheduler.cost.fit.StepFit;

/**
 * {@code exegpt fidelity}: simulator fidelity (issue 8). For each schedule, in one run: the analytic XSimulator's and
 * the discrete-event simulator's predictions from the engine's own profile, then the same requests (the lengths the
 * event simulator sampled, with the same seed) run in bulk through {@code ExecutorRunner} on the real engine, with
 * the same policy class; throughput and the latency of the task's p99-length request side by side, error in percent.
 * Before the rounds, unless {@code --fit-requests 0}, a bulk of other requests of the task fits the profile to the
 * engine under serving ({@link ServingFit}), and the fitted profile's predictions are shown beside the profile's.
 * Then every engine step is set beside the profile's price for it ({@link StepFit}), to show where a miss comes from.
 */
@Command(name = "fidelity", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Predicted (XSimulator, event simulator) vs measured (real engine, ExecutorRunner) throughput and",
                "p99-length latency per schedule, from one profile, in one run."})
final class FidelityCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Model directory (exegpt model init).")
    Path model;

    @Option(names = "--profile", description = {"XProfiler profile of that model on this machine (exegpt profile).",
            "Without it XProfiler runs first in this JVM (TP 1) and writes target/profiles/<model>-inprocess.json:",
            "same load and JIT as the measured engine, though not a cure (scheduler/README.md, Fidelity)."})
    Path profile;

    @Option(names = "--task", defaultValue = "S", description = "Workload task. Default: ${DEFAULT-VALUE}.")
    String task;

    @Option(names = "--requests", defaultValue = "100", description = "Requests per schedule, all at time 0 (bulk). Default: ${DEFAULT-VALUE}.")
    int numRequests;

    @Option(names = "--schedules", defaultValue = "rra:1:16,rra:4:8,rra:8:16,static:8,continuous", split = ",",
            description = "rra:B_E:N_D, static:B, continuous. Default: ${DEFAULT-VALUE}.")
    List<String> schedules;

    @Option(names = "--seed", defaultValue = "7", description = "Seed of the request lengths (the event simulator's). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--rounds", defaultValue = "1", description = "Measure every schedule this many times (interleaved). Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--warm-up-ms", defaultValue = "15000",
            description = "Untimed engine work before the first measurement (the prefill attention needs ~12 s to be fully compiled). Default: ${DEFAULT-VALUE}.")
    long warmUpMs;

    @Option(names = "--fit-requests", defaultValue = "48",
            description = {"Before the rounds, fit the profile to the engine under serving (ServingFit) with this many requests",
                    "(their own seed: --seed + 1), and show the fitted profile's predictions beside the profile's; 0: no fit.",
                    "Default: ${DEFAULT-VALUE}."})
    int fitRequests;

    @Option(names = "--fit-schedule", defaultValue = "static:8", description = "The schedule of the fitting run. Default: ${DEFAULT-VALUE}.")
    String fitSchedule;

    @Option(names = "--steps-csv", description = {"Also write every measured engine step beside the cost model's price for it",
            "(schedule, round, kind, start and duration ms, batch, prompt and context tokens, predicted ms) to this CSV."})
    Path stepsCsv;

    @Override
    public Integer call() throws Exception {
        if (numRequests < 10) throw new UserError("--requests " + numRequests + ": at least 10", CliErrors.EXIT_USAGE);
        if (rounds < 1) throw new UserError("--rounds " + rounds + ": at least 1", CliErrors.EXIT_USAGE);
        if (fitRequests != 0 && fitRequests < 10) {
            throw new UserError("--fit-requests " + fitRequests + ": 0 (no fit) or at least 10", CliErrors.EXIT_USAGE);
        }
        for (String spec : schedules) candidate(spec.trim().toLowerCase(Locale.ROOT));     // wrong ones fail here, before any work
        if (fitRequests > 0) candidate(fitSchedule.trim().toLowerCase(Locale.ROOT));
        PrintStream out = System.out;
        if (profile == null) {
            profile = Path.of("target", "profiles", model.getFileName() + "-inprocess.json");
            out.printf("profiling %s in this JVM (TP 1) into %s%n", model, profile);
            XProfiler.write(new XProfiler(model, ProfileGrid.DEFAULTS.withTpDegrees(List.of(1)),
                    new PrintStream(OutputStream.nullOutputStream())).run(), profile);
        }
        if (!Files.isRegularFile(profile)) throw new UserError("--profile=" + profile + ": no such file", CliErrors.EXIT_USAGE);
        Workload workload = Workloads.byName(task);
        ProfileTable table = ProfileCodec.read(profile);
        ProfiledCostModel cost = new ProfiledCostModel(table, DeviceSpec.A100_80GB);
        if (!cost.hasHead()) out.println("note: the profile has no HEAD entries (made before XProfiler measured the head); re-run exegpt profile");
        XSimulator xsim = new XSimulator(new Scenario(cost, 1, 1, workload, SimOptions.DEFAULTS));
        EventSimulator events = new EventSimulator(xsim);
        List<FidelityRun.Lengths> lengths = FidelityRun.sampleLikeEventSimulator(workload, numRequests, seed);
        int bound = workload.boundOutputTokens();

        List<Row> rows = new ArrayList<>();
        for (String spec : schedules) {
            Candidate c = candidate(spec.trim().toLowerCase(Locale.ROOT));
            Estimate est = xsim.estimate(c);
            if (!est.feasible()) throw new UserError("schedule " + spec + " is infeasible: " + est.infeasibleReason());
            SimResult ev = events.run(c, numRequests, seed, new ArrivalProcess.Bulk());
            Schedule s = ScheduleCodec.fromEstimate(est, new ScheduleCodec.Origin(model.getFileName().toString(), "cpu:1", task,
                    System.currentTimeMillis()), Double.POSITIVE_INFINITY, Map.of());
            rows.add(new Row(spec, c, s, est, ev, xsim.layout(c).encoder(), new ArrayList<>(), new ArrayList<>()));
        }
        out.printf("fidelity: %s, task %s (bound %d tokens), %d requests per schedule in bulk, seed %d, %d round(s)%n",
                model.getFileName(), task, bound, numRequests, seed, rounds);
        try (Engine engine = Engine.load(model, EngineConfig.DEFAULTS)) {
            FidelityRun run = new FidelityRun(engine, out);
            run.warmUp(warmUpMs);
            if (fitRequests > 0) {
                ServingFit.Factors f = ServingFit.measure(run, table, workload, fitSchedule.trim().toLowerCase(Locale.ROOT),
                        fitRequests, seed + 1);
                out.printf("  %s%n", f.note());
                ProfileTable fitted = ProfileCodec.toTable(f.applyTo(ProfileCodec.readProfile(profile)));
                XSimulator xfit = new XSimulator(new Scenario(new ProfiledCostModel(fitted, DeviceSpec.A100_80GB), 1, 1,
                        workload, SimOptions.DEFAULTS));
                EventSimulator efit = new EventSimulator(xfit);
                for (Row r : rows) {
                    r.fitted().add(new Fitted(xfit.estimate(r.candidate()),
                            efit.run(r.candidate(), numRequests, seed, new ArrivalProcess.Bulk())));
                }
            }
            for (int round = 0; round < rounds; round++) {
                for (Row r : rows) {
                    FidelityRun.Measured m = run.measure(r.schedule(), lengths, bound);
                    r.measured().add(m);
                    StepFit f = StepFit.of(m.steps(), r.pipeline());
                    out.printf("  round %d %-14s measured %.2f req/s, bound-length latency %s, mean TPOT %.1f ms at mean decode batch %.1f (%.0f s);"
                                    + " steps / model: encode %.2fx, decode %.2fx, %.0f ms outside steps%n",
                            round + 1, r.spec(), m.sequencesPerSecond(), ms(m.boundLengthLatencyMs()), m.meanTpotMs(),
                            m.meanDecodeBatch(), m.wallMs() / 1000, f.encodeRatio(), f.decodeRatio(), f.outsideStepsMs());
                }
            }
        }
        print(out, rows);
        if (stepsCsv != null) {
            writeSteps(rows, stepsCsv);
            out.printf("%nsteps: %s%n", stepsCsv);
        }
        return 0;
    }

    private record Row(String spec, Candidate candidate, Schedule schedule, Estimate analytic, SimResult event,
                       Pipeline pipeline, List<FidelityRun.Measured> measured, List<Fitted> fitted) {

        /** The fitted profile's predictions: NaN figures without a fit. */
        Fitted fit() {
            return fitted.isEmpty() ? null : fitted.get(0);
        }

        List<StepFit> fits() {
            return measured.stream().map(m -> StepFit.of(m.steps(), pipeline)).toList();
        }
    }

    /** The predictions from the profile fitted to the engine under serving (ServingFit). */
    private record Fitted(Estimate analytic, SimResult event) {}

    static Candidate candidate(String spec) {
        try {
            return FidelityRun.candidate(spec);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), CliErrors.EXIT_USAGE);
        }
    }

    private static void print(PrintStream out, List<Row> rows) {
        out.println();
        out.println("requests/s between the 10th and 90th percentile completions (error = predicted / measured - 1; measured =");
        out.println("median of the rounds, range = the rounds around it); \"fit\": from the");
        out.println("profile fitted to the engine under serving (--fit-requests), n/a without");
        out.printf("%-14s %9s %15s | %9s %7s | %9s %7s | %9s %7s | %9s %7s%n", "schedule", "measured", "rounds' range",
                "XSim", "err", "event", "err", "XSim fit", "err", "event fit", "err");
        for (Row r : rows) {
            double[] v = r.measured().stream().mapToDouble(FidelityRun.Measured::sequencesPerSecond).toArray();
            double m = FidelityRun.median(v);
            double xf = r.fit() == null ? Double.NaN : r.fit().analytic().sequencesPerSecond();
            double ef = r.fit() == null ? Double.NaN : r.fit().event().sequencesPerSecond();
            out.printf("%-14s %9.2f %15s | %9.2f %7s | %9.2f %7s | %9.2f %7s | %9.2f %7s%n", r.spec(), m, range(v, m),
                    r.analytic().sequencesPerSecond(), err(r.analytic().sequencesPerSecond(), m),
                    r.event().sequencesPerSecond(), err(r.event().sequencesPerSecond(), m), xf, err(xf, m), ef, err(ef, m));
        }
        out.println();
        out.println("requests/s over the whole run (arrival to last completion: fill and drain count, as in exegpt bench); XSim has");
        out.println("no such figure (a steady state)");
        out.printf("%-14s %9s %15s | %9s %7s | %9s %7s%n", "schedule", "measured", "rounds' range", "event", "err", "event fit", "err");
        for (Row r : rows) {
            double[] v = r.measured().stream().mapToDouble(FidelityRun.Measured::completionsPerSecond).toArray();
            double m = FidelityRun.median(v);
            double ef = r.fit() == null ? Double.NaN : r.fit().event().completionsPerSecond();
            out.printf("%-14s %9.2f %15s | %9.2f %7s | %9.2f %7s%n", r.spec(), m, range(v, m),
                    r.event().completionsPerSecond(), err(r.event().completionsPerSecond(), m), ef, err(ef, m));
        }
        out.println();
        out.println("latency of a p99-length request (worst, from its encode start), ms; XSim is the analytic worst case");
        out.printf("%-14s %9s %15s | %9s %7s | %9s %7s | %9s %7s | %9s %7s%n", "schedule", "measured", "rounds' range",
                "XSim", "err", "event", "err", "XSim fit", "err", "event fit", "err");
        for (Row r : rows) {
            double[] v = r.measured().stream().mapToDouble(FidelityRun.Measured::boundLengthLatencyMs).toArray();
            double m = FidelityRun.median(v);
            double xf = r.fit() == null ? Double.NaN : r.fit().analytic().latencyMs();
            double ef = r.fit() == null ? Double.NaN : r.fit().event().boundLengthLatencyMs();
            out.printf("%-14s %9s %15s | %9.0f %7s | %9s %7s | %9s %7s | %9s %7s%n", r.spec(), ms(m), range(v, m), r.analytic().latencyMs(),
                    err(r.analytic().latencyMs(), m), ms(r.event().boundLengthLatencyMs()), err(r.event().boundLengthLatencyMs(), m),
                    ms(xf), err(xf, m), ms(ef), err(ef, m));
        }
        out.println();
        out.println("steps: encode of a batch (XSim at the mean input vs measured mean), decode iteration (XSim, first after");
        out.println("encode) and mean TPOT (event vs measured), ms; batch = decode batch (XSim B_D vs measured mean per request)");
        out.printf("%-14s %8s %8s | %9s %9s %9s | %8s %8s%n", "schedule", "XSim enc", "meas enc", "XSim iter", "event TPOT",
                "meas TPOT", "XSim B_D", "meas B_D");
        for (Row r : rows) {
            double tpot = FidelityRun.median(r.measured().stream().mapToDouble(FidelityRun.Measured::meanTpotMs).toArray());
            double batch = FidelityRun.median(r.measured().stream().mapToDouble(FidelityRun.Measured::meanDecodeBatch).toArray());
            double enc = FidelityRun.median(r.measured().stream().mapToDouble(FidelityRun.Measured::meanEncodeMs).toArray());
            out.printf("%-14s %8.1f %8.1f | %9.1f %9.1f %9.1f | %8d %8.1f%n", r.spec(), r.analytic().encodeStageMs(), enc,
                    r.analytic().decodeIterationMs(), r.event().meanTpotMs(), tpot, r.analytic().decodeBatchSize(), batch);
        }
        out.println();
        out.println("the engine's own steps under serving vs the profile (not fitted) for the same steps, each priced at its own batch");
        out.println("and lengths as the event simulator prices it (StepFit; an encode includes the decode iteration right after it);");
        out.println("x = measured / predicted, \"sum\" over the run's steps, \"med\" over each step; median of the rounds");
        out.printf("%-14s %7s %9s %9s %7s %7s | %7s %9s %9s %7s %7s | %9s %8s%n", "schedule", "encodes", "meas ms", "model ms",
                "sum x", "med x", "decodes", "meas ms", "model ms", "sum x", "med x", "span ms", "outside");
        for (Row r : rows) {
            List<StepFit> fits = r.fits();
            out.printf("%-14s %7.0f %9.0f %9.0f %7.2f %7.2f | %7.0f %9.0f %9.0f %7.2f %7.2f | %9.0f %8.0f%n", r.spec(),
                    med(fits, StepFit::numEncodes), med(fits, StepFit::measuredEncodeMs), med(fits, StepFit::predictedEncodeMs),
                    med(fits, StepFit::encodeRatio), med(fits, StepFit::medianEncodeRatio),
                    med(fits, StepFit::numDecodes), med(fits, StepFit::measuredDecodeMs), med(fits, StepFit::predictedDecodeMs),
                    med(fits, StepFit::decodeRatio), med(fits, StepFit::medianDecodeRatio),
                    med(fits, StepFit::spanMs), med(fits, StepFit::outsideStepsMs));
        }
    }

    private static void writeSteps(List<Row> rows, Path csv) throws java.io.IOException {
        if (csv.getParent() != null) Files.createDirectories(csv.getParent());
        try (PrintStream w = new PrintStream(Files.newOutputStream(csv), false, java.nio.charset.StandardCharsets.UTF_8)) {
            w.println("schedule,round,kind,start_ms,duration_ms,batch,prompt_tokens,max_prompt_tokens,context_tokens,predicted_ms");
            for (Row r : rows) {
                for (int round = 0; round < r.measured().size(); round++) {
                    List<dev.exegpt.scheduler.cost.fit.MeasuredStep> steps = r.measured().get(round).steps();
                    double t0 = steps.isEmpty() ? 0 : steps.get(0).startEpochMs();
                    for (dev.exegpt.scheduler.cost.fit.MeasuredStep s : steps) {
                        int sum = 0, max = 0;
                        for (int len : s.inputTokens()) { sum += len; max = Math.max(max, len); }
                        w.printf(Locale.ROOT, "%s,%d,%s,%.3f,%.3f,%d,%d,%d,%d,%.3f%n", r.spec(), round + 1, s.phase(),
                                s.startEpochMs() - t0, s.durationMs(), s.batchSize(), sum, max, s.numContextTokens(),
                                StepFit.predictedMs(s, r.pipeline()));
                    }
                }
            }
        }
    }

    private static double med(List<StepFit> fits, java.util.function.ToDoubleFunction<StepFit> f) {
        return FidelityRun.median(fits.stream().mapToDouble(f).toArray());
    }

    /** The rounds' spread around their median, in percent ("-8%..+12%"); empty for one round. */
    private static String range(double[] v, double median) {
        if (v.length < 2 || Double.isNaN(median) || median == 0) return "";
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            if (Double.isNaN(x)) continue;
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        return lo > hi ? "" : String.format("%+.0f%%..%+.0f%%", 100 * (lo / median - 1), 100 * (hi / median - 1));
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "n/a" : String.format("%.0f", v);
    }

    private static String err(double predicted, double measured) {
        if (Double.isNaN(predicted) || Double.isNaN(measured) || measured == 0) return "n/a";
        return String.format("%+.1f%%", 100 * (predicted / measured - 1));
    }
}
