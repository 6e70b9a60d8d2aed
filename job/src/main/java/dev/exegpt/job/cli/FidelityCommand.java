package dev.exegpt.job.cli;

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
import dev.exegpt.scheduler.cost.ProfilePoint;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.sim.Candidate;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.EventSimulator;
import dev.exegpt.scheduler.sim.Policy;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.SimResult;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.Schedule;

/**
 * {@code exegpt fidelity}: simulator fidelity (issue 8). For each schedule, in one run: the analytic XSimulator's and
 * the discrete-event simulator's predictions from the engine's own profile, then the same requests (the lengths the
 * event simulator sampled, with the same seed) run in bulk through {@code ExecutorRunner} on the real engine, with
 * the same policy class; throughput and the latency of the task's p99-length request side by side, error in percent.
 * The analytic prediction without the profile's HEAD entries (the model head: LM head and argmax) is shown too, to
 * see what the head adds.
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

    @Override
    public Integer call() throws Exception {
        if (numRequests < 10) throw new UserError("--requests " + numRequests + ": at least 10", CliErrors.EXIT_USAGE);
        if (rounds < 1) throw new UserError("--rounds " + rounds + ": at least 1", CliErrors.EXIT_USAGE);
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
        ProfiledCostModel bare = new ProfiledCostModel(table.without(ProfilePoint.Operation.HEAD), DeviceSpec.A100_80GB);
        if (!cost.hasHead()) out.println("note: the profile has no HEAD entries (made before XProfiler measured the head); re-run exegpt profile");
        XSimulator xsim = new XSimulator(new Scenario(cost, 1, 1, workload, SimOptions.DEFAULTS));
        XSimulator xbare = new XSimulator(new Scenario(bare, 1, 1, workload, SimOptions.DEFAULTS));
        EventSimulator events = new EventSimulator(xsim);
        List<FidelityRun.Lengths> lengths = FidelityRun.sampleLikeEventSimulator(workload, numRequests, seed);
        int bound = workload.boundOutputTokens();

        List<Row> rows = new ArrayList<>();
        for (String spec : schedules) {
            Candidate c = candidate(spec.trim().toLowerCase(Locale.ROOT));
            Estimate est = xsim.estimate(c);
            if (!est.feasible()) throw new UserError("schedule " + spec + " is infeasible: " + est.infeasibleReason());
            Estimate before = xbare.estimate(c);
            SimResult ev = events.run(c, numRequests, seed, new ArrivalProcess.Bulk());
            Schedule s = ScheduleCodec.fromEstimate(est, new ScheduleCodec.Origin(model.getFileName().toString(), "cpu:1", task,
                    System.currentTimeMillis()), Double.POSITIVE_INFINITY, Map.of());
            rows.add(new Row(spec, c, s, est, before, ev, new ArrayList<>()));
        }
        out.printf("fidelity: %s, task %s (bound %d tokens), %d requests per schedule in bulk, seed %d, %d round(s)%n",
                model.getFileName(), task, bound, numRequests, seed, rounds);
        try (Engine engine = Engine.load(model, EngineConfig.DEFAULTS)) {
            FidelityRun run = new FidelityRun(engine, out);
            run.warmUp(warmUpMs);
            for (int round = 0; round < rounds; round++) {
                for (Row r : rows) {
                    FidelityRun.Measured m = run.measure(r.schedule(), lengths, bound);
                    r.measured().add(m);
                    out.printf("  round %d %-14s measured %.2f req/s, bound-length latency %s, mean TPOT %.1f ms at mean decode batch %.1f (%.0f s)%n",
                            round + 1, r.spec(), m.sequencesPerSecond(), ms(m.boundLengthLatencyMs()), m.meanTpotMs(),
                            m.meanDecodeBatch(), m.wallMs() / 1000);
                }
            }
        }
        print(out, rows);
        return 0;
    }

    private record Row(String spec, Candidate candidate, Schedule schedule, Estimate analytic, Estimate analyticNoHead,
                       SimResult event, List<FidelityRun.Measured> measured) {}

    static Candidate candidate(String spec) {
        String[] p = spec.split(":");
        try {
            return switch (p[0]) {
                case "rra" -> Candidate.rra(1, Integer.parseInt(p[1]), Integer.parseInt(p[2]), 1, 0);
                case "static" -> new Candidate(Policy.STATIC, 1, Integer.parseInt(p[1]), 1, 0, 1, 0, 0);
                case "continuous" -> new Candidate(Policy.CONTINUOUS, 1, 1, 1, 0, 1, 0, 0);
                default -> throw new UserError("--schedules " + spec + ": expected rra:B_E:N_D, static:B or continuous", CliErrors.EXIT_USAGE);
            };
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
            throw new UserError("--schedules " + spec + ": expected rra:B_E:N_D, static:B or continuous", CliErrors.EXIT_USAGE);
        }
    }

    private static void print(PrintStream out, List<Row> rows) {
        out.println();
        out.println("throughput, requests/s (error = predicted / measured - 1; measured = median of the rounds)");
        out.printf("%-14s %9s | %9s %7s | %9s %7s | %13s %7s%n", "schedule", "measured", "XSim", "err", "event", "err",
                "XSim no head", "err");
        for (Row r : rows) {
            double m = FidelityRun.median(r.measured().stream().mapToDouble(FidelityRun.Measured::sequencesPerSecond).toArray());
            out.printf("%-14s %9.2f | %9.2f %7s | %9.2f %7s | %13.2f %7s%n", r.spec(), m,
                    r.analytic().sequencesPerSecond(), err(r.analytic().sequencesPerSecond(), m),
                    r.event().sequencesPerSecond(), err(r.event().sequencesPerSecond(), m),
                    r.analyticNoHead().sequencesPerSecond(), err(r.analyticNoHead().sequencesPerSecond(), m));
        }
        out.println();
        out.println("latency of a p99-length request (worst, from its encode start), ms; XSim is the analytic worst case");
        out.printf("%-14s %9s | %9s %7s | %9s %7s | %13s %7s%n", "schedule", "measured", "XSim", "err", "event", "err",
                "XSim no head", "err");
        for (Row r : rows) {
            double m = FidelityRun.median(r.measured().stream().mapToDouble(FidelityRun.Measured::boundLengthLatencyMs).toArray());
            out.printf("%-14s %9s | %9.0f %7s | %9s %7s | %13.0f %7s%n", r.spec(), ms(m), r.analytic().latencyMs(),
                    err(r.analytic().latencyMs(), m), ms(r.event().boundLengthLatencyMs()), err(r.event().boundLengthLatencyMs(), m),
                    r.analyticNoHead().latencyMs(), err(r.analyticNoHead().latencyMs(), m));
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
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "n/a" : String.format("%.0f", v);
    }

    private static String err(double predicted, double measured) {
        if (Double.isNaN(predicted) || Double.isNaN(measured) || measured == 0) return "n/a";
        return String.format("%+.1f%%", 100 * (predicted / measured - 1));
    }
}
