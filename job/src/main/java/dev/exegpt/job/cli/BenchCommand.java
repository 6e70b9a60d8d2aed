package dev.exegpt.job.cli;

import dev.exegpt.job.bench.BenchArm;
import dev.exegpt.job.bench.BenchFigures;
import dev.exegpt.job.bench.BenchReport;
import dev.exegpt.job.bench.BoundSweep;
import dev.exegpt.job.bench.FidelityRun;
import dev.exegpt.job.bench.PeerArm;
import dev.exegpt.job.bench.TransformersPeer;
import dev.exegpt.job.pipeline.PipelineSettings;
import dev.exegpt.job.bench.ServingFit;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;
import dev.exegpt.job.local.LocalRig;
import dev.exegpt.job.kafka.BrokerOptions;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.LocalKafkaBroker;
import dev.exegpt.job.kafka.RequestSender;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.job.report.Arrivals;
import dev.exegpt.job.report.SloClock;
import dev.exegpt.operators.runner.EngineStep;
import dev.exegpt.scheduler.cost.fit.MeasuredStep;
import dev.exegpt.operators.runner.EngineStepCsv;
import dev.exegpt.operators.runner.Policies;
import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.search.Baselines;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.EventSimulator;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimResult;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.scheduler.cost.fit.StepFit;

/**
 * {@code exegpt bench}: one workload through the real job (real broker, Flink MiniCluster, real engine) under the
 * ExeGPT schedule (RRA, planned for the SLO), the best STATIC schedule for the same SLO (FasterTransformer-style),
 * CONTINUOUS (Orca-style) and vLLM at its best budget and cap (V1 for a decoder-only model, V0 for T5), interleaved in rounds in one job (forward order, then reverse): each round publishes its policy's
 * schedule on the schedules topic, waits for a probe answered under it, sends the same requests at the same offsets
 * and waits for every result; beside them, in the same rounds, the peer a user would run instead (Hugging Face
 * transformers' generate(), {@link TransformersPeer}) when its Python is there. Prints one table and the simulators'
 * predictions beside the measurements; writes bench.json, one JSON-lines file of results per policy and bench.html.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"ExeGPT vs STATIC vs CONTINUOUS vs vLLM (V1, or V0 for T5) on the real job, same engine, SLO and requests, interleaved rounds, and",
                "TRANSFORMERS (Hugging Face generate() on the same cores and requests) where gpu-udf/python/setup-venv.sh made its venv;",
                "with the XSimulator's and event simulator's predictions and their error. Writes --dir/bench.json, .html, .jsonl."})
final class BenchCommand extends LocalModelOptions implements Callable<Integer> {

    static final int QUICK_REQUESTS = 24;
    static final int QUICK_ROUNDS = 2;

    @Option(names = "--dir", defaultValue = "target/exegpt-bench", description = "Working and output folder (model and profile reused). Default: ${DEFAULT-VALUE}.")
    Path dir;

    @Option(names = "--workload", description = "A workload file (datasets/*.properties format) instead of --task.")
    Path workloadFile;

    @Option(names = "--slo-ms", defaultValue = "auto",
            description = "Latency bound of a p99-length request and every request's end-to-end SLO, ms; auto: 4x the fastest RRA schedule's. Default: ${DEFAULT-VALUE}.")
    String sloMs;

    @Option(names = "--requests", description = "Requests per policy per round. Default: 60, with --quick " + QUICK_REQUESTS + ".")
    Integer numRequests;

    @Option(names = "--rounds", description = "Rounds; each runs every policy once (ExeGPT, STATIC, CONTINUOUS, vLLM). Default: 3, with --quick " + QUICK_ROUNDS + ".")
    Integer rounds;

    @Option(names = "--arrival", defaultValue = "bulk",
            description = {"bulk: a round's requests all at once (saturation, as the paper measures; SLO on the service clock,",
                    "from each request's encode start); poisson: open-loop at --rate (SLO end to end, from arrival). Default: ${DEFAULT-VALUE}."})
    String arrivalKind;

    @Option(names = "--rate", defaultValue = "auto",
            description = "With --arrival poisson: requests/s; auto: --load times ExeGPT's planned throughput. Default: ${DEFAULT-VALUE}.")
    String rate;

    @Option(names = "--load", defaultValue = "0.8",
            description = "With --arrival poisson --rate auto: the offered load as a fraction of ExeGPT's planned throughput. Default: ${DEFAULT-VALUE}.")
    double load;

    @Option(names = "--seed", defaultValue = "7", description = "Seed of arrivals and lengths (the event simulator's). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--warm-up-ms", defaultValue = "15000",
            description = "Untimed engine work before measuring, in the profiler and in each executor (the prefill's fast code needs ~12 s). Default: ${DEFAULT-VALUE}.")
    long warmUpMs;

    @Option(names = "--warm-up-round", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Run one unmeasured round under ExeGPT's schedule before the measured rounds (--no-warm-up-round: none). Default: ${DEFAULT-VALUE}.")
    boolean warmUpRound;

    @Option(names = "--no-fit", description = {"Plan and predict from the profile as XProfiler measured it, without fitting it to the",
            "engine under serving first (" + LocalRig.FIT_REQUESTS + " requests of the task under " + LocalRig.FIT_SCHEDULE
                    + ", ServingFit; made once per profile and task, into --dir's profile-ARCH-SIZE-fitted-TASK.json)."})
    boolean noFit;

    @Option(names = "--fit-in-job", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = {"After the warm-up round, run one more unmeasured round under ExeGPT's schedule, fit the profile to the",
                    "engine's steps in the job (the executors' step log, StepFit) and plan and predict again on it (--no-fit-in-job:",
                    "keep the plan made before the job started; --no-fit: neither fit). Default: ${DEFAULT-VALUE}."})
    boolean fitInJob;

    @Option(names = "--reprofile", description = "Profile the model again in this run (same load as the measurement) instead of reusing --dir's profile.")
    boolean reprofile;

    @Option(names = "--transformers", defaultValue = "auto",
            description = {"The peer a user would run instead: Hugging Face transformers generate() on the same cores, model, requests",
                    "and SLO, static batches of the best swept size (arm TRANSFORMERS). auto: gpu-udf/target/hf-venv's Python",
                    "(gpu-udf/python/setup-venv.sh makes it) or EXEGPT_HF_PYTHON, skipped with a one-line reason where it is",
                    "missing; off: no such arm; else the path of a Python with torch and transformers. Default: ${DEFAULT-VALUE}."})
    String transformers;

    @Option(names = "--sweep", description = {"The paper's Figure 6 on the real job: at each bound (the tightest any ExeGPT schedule meets,",
            "2x and 4x that, STATIC's p10/p30/p70 latency as compare --paper derives them, and none) ExeGPT, STATIC and VLLM_V0, each tuned for it,",
            "in interleaved rounds; goodput per bound with its range over rounds and the ratios. Requests per round: 10x the",
            "largest batch, " + BoundSweep.MIN_REQUESTS + ".." + BoundSweep.MAX_REQUESTS + " (--quick: at most "
                    + BoundSweep.QUICK_MAX_REQUESTS + "), unless --requests. Bulk arrivals; no fit in the job."})
    boolean sweepBounds;

    @Option(names = "--quick", description = "A short run: " + QUICK_REQUESTS + " requests per policy, " + QUICK_ROUNDS + " rounds (under 3 minutes once the model and profile exist).")
    boolean quick;

    @Override
    public Integer call() throws Exception {
        int n = numRequests != null ? numRequests : quick ? QUICK_REQUESTS : 60;
        int numRounds = rounds != null ? rounds : quick ? QUICK_ROUNDS : 3;
        if (n < 5) throw new UserError("--requests " + n + ": at least 5 per policy and round", CliErrors.EXIT_USAGE);
        if (numRounds < 1) throw new UserError("--rounds " + numRounds + ": at least 1", CliErrors.EXIT_USAGE);
        if (!(load > 0 && load <= 4)) throw new UserError("--load " + load + ": expected a fraction in (0, 4]", CliErrors.EXIT_USAGE);
        if (warmUpMs < 0) throw new UserError("--warm-up-ms " + warmUpMs + ": must not be negative", CliErrors.EXIT_USAGE);
        boolean bulk = switch (arrivalKind) {
            case "bulk" -> true;
            case "poisson" -> false;
            default -> throw new UserError("--arrival " + arrivalKind + ": expected bulk or poisson", CliErrors.EXIT_USAGE);
        };
        Double givenRate = parseRate(rate);
        deviceChoices();     // a wrong --devices fails before anything is made
        if (!transformers.equals("auto") && !transformers.equals("off") && !Files.isExecutable(Path.of(transformers))) {
            throw new UserError("--transformers " + transformers + ": expected auto, off or the path of a Python executable"
                    + " (with torch and transformers)", CliErrors.EXIT_USAGE);
        }
        if (bulk && givenRate != null) throw new UserError("--rate " + rate + " needs --arrival poisson", CliErrors.EXIT_USAGE);
        if (sweepBounds && !bulk) {
            throw new UserError("--sweep measures at saturation, as the paper does: expected --arrival bulk", CliErrors.EXIT_USAGE);
        }
        if (sweepBounds && !sloMs.equals("auto")) {
            throw new UserError("--slo-ms " + sloMs + " with --sweep: the sweep sets its own bounds; expected no --slo-ms",
                    CliErrors.EXIT_USAGE);
        }
        PrintStream out = System.out;
        long startNanos = System.nanoTime();
        out.printf("[1] model and profile (%s)%n", dir);
        if (reprofile && Files.isDirectory(dir)) {
            // Every profile of this model under --dir: one device's and N devices' ones, and the fits made from them.
            try (java.util.stream.Stream<Path> old = Files.list(dir)) {
                for (Path f : old.filter(f -> f.getFileName().toString().startsWith("profile-" + arch + "-" + size + ".")
                        || f.getFileName().toString().startsWith("profile-" + arch + "-" + size + "-")).toList()) {
                    Files.delete(f);
                }
            }
        }
        ScenarioOptions options = new ScenarioOptions();
        options.task = workloadFile == null ? task : null;
        options.workload = workloadFile;
        int numDevices = LocalRig.chooseDevices(out, deviceChoices(), dir, arch, size, warmUpMs, options.workload(), sloOrAuto(sloMs));
        LocalRig.ModelFiles files = LocalRig.modelAndProfile(out, dir, arch, size, warmUpMs, noFit ? null : options.workload(),
                numDevices);

        out.println("[2] plan and predict");
        options.profile = files.profile();
        options.profileDevices = numDevices;
        options.batchFormula = "little";
        Scenario scenario = options.scenario();
        Workload workload = scenario.workload();
        XScheduler firstScheduler = new XScheduler(new XSimulator(scenario));
        BoundSweep.Planned sweep = null;
        long slo;
        List<BenchArm> arms;
        if (sweepBounds) {
            sweep = BoundSweep.planArms(out, new XSimulator(scenario), LocalRig.policiesFor(numDevices), origin(files, numDevices,
                    workload), numRequests, quick ? BoundSweep.QUICK_MAX_REQUESTS : BoundSweep.MAX_REQUESTS, seed);
            n = sweep.requestsPerRound();
            arms = sweep.arms();
            slo = arms.get(0).requestSloMs;       // the job's task SLO; every request carries its arm's bound
            out.printf("  --sweep: %d bounds, %d arms, %d requests per arm and round%s%n", sweep.bounds().size(), arms.size(), n,
                    numRequests != null ? " (--requests)" : String.format(" (%dx the largest batch, %d..%d)",
                            BoundSweep.REQUESTS_PER_DECODE_BATCH, BoundSweep.MIN_REQUESTS,
                            quick ? BoundSweep.QUICK_MAX_REQUESTS : BoundSweep.MAX_REQUESTS));
        } else {
            slo = sloMs.equals("auto") ? LocalRig.autoSloMs(out, firstScheduler, workload.name(), LocalRig.policiesFor(numDevices))
                    : (long) ScenarioOptions.latencyBoundMs("--slo-ms", sloMs);
            arms = planArms(out, scenario, slo, n, files, bulk, givenRate, numDevices);
        }
        double offered = arms.get(0).offeredRate;
        ArrivalProcess arrival = bulk ? new ArrivalProcess.Bulk() : new ArrivalProcess.Poisson(offered);
        SloClock verdict = (bulk ? Arrivals.BULK : Arrivals.OPEN).verdict();
        out.printf("  SLO %d ms; %d requests of task %s per policy and round, %s; %d rounds%n", slo, n, workload.name(),
                bulk ? "all at once (bulk)" : String.format("Poisson at %.2f requests/s", offered), numRounds);

        List<FidelityRun.Drawn> drawn = FidelityRun.drawLikeEventSimulator(workload, n, seed, arrival);
        PeerArm peer = null;
        if (sweepBounds) {
            out.println("  " + TransformersPeer.NAME + ": not in --sweep (its batch is swept for one SLO: run exegpt bench without --sweep)");
        } else {
            peer = transformersArm(out, files, workload, slo, drawn);
        }
        out.println("[3] kafka broker and flink job" + (distinctJobs(arms) > 1 ? "s (one per engine layout: an executor's layout is"
                + " fixed when it opens)" : ""));
        Path stepsDir = LocalRig.freshDir(dir.resolve("steps"));
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(BrokerOptions.ephemeral(LocalRig.freshDir(dir.resolve("kafka"))));
             Jobs jobs = new Jobs()) {
            try (Admin admin = broker.admin()) {
                Topics.create(admin, Topics.all(), Topics.DEFAULT_PARTITIONS);
            }
            for (BenchArm a : arms) {
                if (jobs.of(a) == null) jobs.start(broker, a, arms, n, files, workload.name(), slo, stepsDir, warmUpMs);
            }
            for (ArmJob j : jobs.all()) {
                out.printf("  job %s (%s) ready (engine warmed up) after %.1f s%n", j.label, j.key, j.job.awaitProbe(0, 300_000));
            }
            String stamp = Long.toString(System.currentTimeMillis(), 36);
            if (warmUpRound) {
                // The first round after the start ran up to 2x slower than later ones (code paths the engine's
                // warm-up does not reach: larger decode batches, the runner, Kafka and Flink's network stack).
                for (ArmJob j : jobs.all()) {
                    BenchArm first = j.arms.get(0);
                    long t0 = System.nanoTime();
                    runRound(j.job, first, 0, drawn, "bench-" + stamp + "-warm-up-" + j.label + "-", workload.name());
                    out.printf("  warm-up round under %s (not measured): %.0f s%n", first.name, (System.nanoTime() - t0) / 1e9);
                }
            }
            if (!noFit && fitInJob && sweepBounds) {
                out.println("  --sweep: no fit round in the job (the arms stay as planned on the fitted profile)");
            } else if (!noFit && fitInJob) {
                BenchArm fitArm = arms.stream().filter(a -> !Policies.splitsEncodeAndDecode(a.schedule)).findFirst().orElseThrow();
                ArmJob fitJob = jobs.of(fitArm);
                files = fitInJob(out, fitJob.job, fitArm, drawn, fitJob.stepsDir, "bench-" + stamp + "-fit-", workload.name(), files);
                options.profile = files.profile();
                List<BenchArm> again = new ArrayList<>();
                for (BenchArm a : planArms(out, options.scenario(), slo, n, files, bulk, bulk ? null : offered, numDevices)) {
                    if (jobs.of(a) != null) {
                        again.add(a);
                        continue;
                    }
                    // The plan on the fitted profile needs engines no running job has: keep the arm's first plan.
                    BenchArm kept = arms.stream().filter(b -> b.name.equals(a.name)).findFirst().orElse(null);
                    out.printf("  %s: the fitted plan %s needs a layout no running job has; %s%n", a.name, a.label(),
                            kept == null ? "the arm is left out" : "it keeps " + kept.label());
                    if (kept != null) again.add(kept);
                }
                arms.clear();
                arms.addAll(again);
            }
            for (int round = 1; round <= numRounds; round++) {
                // ABBA order (ExeGPT, STATIC, CONTINUOUS, then CONTINUOUS, STATIC, ExeGPT, ...): over two rounds every
                // policy has the same mean position, so a load that drifts steadily favours none.
                List<Object> order = new ArrayList<>(arms);
                if (peer != null) order.add(peer);
                if (round % 2 == 0) java.util.Collections.reverse(order);
                for (Object next : order) {
                    if (next instanceof PeerArm p) {
                        if (!runPeerRound(out, p, round, drawn, "bench-" + stamp + "-r" + round + "-" + p.name + "-", workload, slo, verdict)) {
                            peer = null;
                        }
                        continue;
                    }
                    BenchArm a = (BenchArm) next;
                    ArmJob j = jobs.of(a);
                    int version = ++j.version;
                    j.job.publish(Schedule.newBuilder(a.schedule).setVersion(version).build());
                    double switchS = j.job.awaitProbe(version, 120_000);
                    long t0 = System.nanoTime();
                    List<InferenceResult> results = runRound(j.job, a, round, drawn, "bench-" + stamp + "-r" + round + "-" + a.name + "-",
                            workload.name());
                    a.rounds.add(results);
                    BenchFigures f = BenchFigures.of(List.of(results), n, workload.boundOutputTokens(), verdict);
                    out.printf("  round %d %-16s %.2f requests/s, p99 %.0f ms from arrival, attainment %.0f%% %s (%.0f s; switch %.1f s)%n",
                            round, a.name, f.figures().requestsPerSecond(), f.figures().fromArrival().p99Ms(), 100 * f.attainment(),
                            verdict.label(), (System.nanoTime() - t0) / 1e9, switchS);
                }
            }
        }
        for (BenchArm a : arms) {
            if (!a.executedLayouts().equals(List.of(a.plannedLayout))) {
                out.printf("  %s was planned as %s and ran as %s%n", a.name, a.plannedLayout, a.executedLayouts());
            }
        }
        for (BenchArm a : arms) a.measured = BenchFigures.of(a.rounds, n, workload.boundOutputTokens(), verdict);
        if (peer != null) peer.measured = BenchFigures.of(peer.rounds, n, workload.boundOutputTokens(), verdict);
        BenchReport report = new BenchReport(arms, peer == null ? List.of() : List.of(peer), slo, workload.name(), n, numRounds, bulk,
                offered, seed, files, arch, size);
        if (sweep != null) {
            report.withSweep(BoundSweep.results(sweep.bounds(), arms, workload.boundOutputTokens(), verdict),
                    BoundSweep.note(n, quick ? BoundSweep.QUICK_MAX_REQUESTS : BoundSweep.MAX_REQUESTS));
        }
        out.println();
        report.print(out);
        report.write(dir);
        out.printf("%nwrote %s, %s and results-*.jsonl; bench finished in %.0f s; broker and job stopped%n",
                dir.resolve("bench.json"), dir.resolve("bench.html"), (System.nanoTime() - startNanos) / 1e9);
        return 0;
    }

    /**
     * One unmeasured round under the first arm's schedule; the executors' steps in it (their step log) priced by the
     * profile the arms were planned on ({@link StepFit}); that profile scaled by measured / predicted per phase and
     * written beside it with "-job" in its name, which is returned. The job, its broker and the engine share the
     * machine here, as in the measured rounds: what a fit made outside the job cannot see.
     */
    private static LocalRig.ModelFiles fitInJob(PrintStream out, LocalRig.RunningJob job, BenchArm planned, List<FidelityRun.Drawn> drawn,
                                                Path stepsDir, String idPrefix, String task, LocalRig.ModelFiles files) throws Exception {
        long t0 = System.currentTimeMillis();
        runRound(job, planned, 0, drawn, idPrefix, task);
        long t1 = System.currentTimeMillis();
        List<MeasuredStep> steps = EngineStepCsv.read(stepsDir, t0, t1).stream().map(EngineStep::measured).toList();
        if (steps.isEmpty()) {
            out.printf("  no engine steps logged in %s during the fit round: the plan stays%n", stepsDir);
            return files;
        }
        StepFit fit = StepFit.of(steps, planned.xsim.layout(planned.estimate.candidate()).encoder());
        String note = String.format(java.util.Locale.ROOT, "fitted in the job: encode x%.2f, decode x%.2f (%d steps of a round of %d"
                + " requests under %s)", fit.encodeFactor(), fit.decodeFactor(), steps.size(), drawn.size(), planned.label());
        Path fitted = files.profile().resolveSibling(files.profile().getFileName().toString().replaceFirst("\\.json$", "") + "-job.json");
        Files.writeString(fitted, ProfileCodec.toJson(fit.applyTo(ProfileCodec.readProfile(files.profile()), note)));
        out.printf("  fit round under %s (not measured): %.0f s; %s%n  plan and predict again on %s:%n", planned.name,
                (t1 - t0) / 1e3, note, fitted);
        return new LocalRig.ModelFiles(files.model(), fitted);
    }

    /**
     * The TRANSFORMERS arm, its batch swept before any job starts (the cores otherwise idle), or null with a one-line
     * reason when the peer is off or its Python is missing.
     */
    private PeerArm transformersArm(PrintStream out, LocalRig.ModelFiles files, Workload workload, long slo, List<FidelityRun.Drawn> drawn)
            throws Exception {
        TransformersPeer.Probe probe = TransformersPeer.probe(transformers, TransformersPeer.home());
        if (!probe.found()) {
            out.println("  " + TransformersPeer.NAME + " skipped: " + probe.skipReason());
            return null;
        }
        TransformersPeer p = probe.peer();
        int threads = LocalRig.cores();
        out.printf("  %s: %s, %d torch threads; batch swept with the round's first B prompts and %d-token outputs (the SLO's length)%n",
                TransformersPeer.NAME, p.source(), threads, workload.boundOutputTokens());
        try {
            List<TransformersPeer.SweepPoint> sweep = p.sweep(files.model(), threads, TransformersPeer.requests(drawn, "sweep-"),
                    workload.boundOutputTokens(), slo, dir);
            for (TransformersPeer.SweepPoint s : sweep) {
                out.printf("    B=%-3d %6.0f ms, %.2f requests/s%s%n", s.batch(), s.latencyMs(), s.requestsPerSecond(),
                        s.latencyMs() > slo ? " (over the SLO)" : "");
            }
            int batch = TransformersPeer.bestBatch(sweep, slo);
            out.printf("  %s runs B=%d (the most requests/s within the SLO; batch 1 if none, as STATIC)%n", TransformersPeer.NAME, batch);
            return new PeerArm(TransformersPeer.NAME, p, files.model(), batch, threads, sweep);
        } catch (java.io.IOException e) {
            out.println("  " + TransformersPeer.NAME + " left out: " + e.getMessage());
            return null;
        }
    }

    /** One round of the peer: the same requests at the same offsets; false (with a one-line reason) if it failed. */
    private boolean runPeerRound(PrintStream out, PeerArm p, int round, List<FidelityRun.Drawn> drawn, String idPrefix, Workload workload,
                                 long slo, SloClock verdict) throws Exception {
        List<TransformersPeer.Request> requests = TransformersPeer.requests(drawn, idPrefix);
        long t0 = System.nanoTime();
        try {
            List<InferenceResult> results = p.runner.round(p.model, p.threads,
                    p.batch, requests, workload.name(), slo, Map.of("bench.policy", p.name, "bench.round", Integer.toString(round)), dir);
            p.rounds.add(results);
            BenchFigures f = BenchFigures.of(List.of(results), drawn.size(), workload.boundOutputTokens(), verdict);
            out.printf("  round %d %-10s %.2f requests/s, p99 %.0f ms from arrival, attainment %.0f%% %s (%.0f s with the model's load)%n",
                    round, p.name, f.figures().requestsPerSecond(), f.figures().fromArrival().p99Ms(), 100 * f.attainment(),
                    verdict.label(), (System.nanoTime() - t0) / 1e9);
            return true;
        } catch (java.io.IOException e) {
            out.println("  " + p.name + " left out: round " + round + ": " + e.getMessage());
            return false;
        }
    }

    private static long distinctJobs(List<BenchArm> arms) {
        return arms.stream().map(BenchArm::jobKey).distinct().count();
    }

    /** A running job and the arms whose engines it has; versions of the schedules published to it. */
    private static final class ArmJob {
        final String key;
        final String label;
        final Path stepsDir;
        final LocalRig.RunningJob job;
        final List<BenchArm> arms = new ArrayList<>();
        int version;

        ArmJob(String key, String label, Path stepsDir, LocalRig.RunningJob job, int version) {
            this.key = key;
            this.label = label;
            this.stepsDir = stepsDir;
            this.job = job;
            this.version = version;
        }
    }

    /**
     * The bench's jobs, one per engine layout its arms need, on one broker with topics of their own. A job whose arm is
     * not being measured idles (its executors poll an empty queue), so the one measured has the cores to itself.
     */
    private static final class Jobs implements AutoCloseable {
        private final Map<String, ArmJob> byKey = new LinkedHashMap<>();

        ArmJob of(BenchArm a) {
            ArmJob j = byKey.get(a.jobKey());
            if (j != null && !j.arms.contains(a)) j.arms.add(a);
            return j;
        }

        Iterable<ArmJob> all() {
            return byKey.values();
        }

        /**
         * Starts the job of {@code first}'s engine layout; its executors hold a whole round ({@code requestsPerRound}) or
         * as many requests as the largest of {@code arms} needs, whichever is more, so that every arm's schedule, and a
         * re-plan after the fit round, decides its batches (an async capacity from the first arm alone, 16, kept a
         * sweep's unbounded arms, B_E=512 and 1,024 sequences, at 13-14 decoding of 120 sent at once).
         */
        void start(LocalKafkaBroker broker, BenchArm first, List<BenchArm> arms, int requestsPerRound,
                   LocalRig.ModelFiles files, String task, long slo, Path stepsRoot, long warmUpMs) throws Exception {
            String label = byKey.isEmpty() ? "bench" : "bench-" + (byKey.size() + 1);
            Path steps = Files.createDirectories(stepsRoot.resolve(label));
            Path scheduleFile = stepsRoot.resolveSibling("schedule-" + label + ".json");
            ScheduleCodec.write(first.schedule, scheduleFile);
            int inFlight = Math.max(requestsPerRound, arms.stream().filter(a -> a.jobKey().equals(first.jobKey()))
                    .mapToInt(a -> PipelineSettings.asyncCapacityFor(a.schedule)).max().orElse(0));
            LocalRig.RunningJob job = LocalRig.RunningJob.start(broker, files.model(), scheduleFile, task, slo, label,
                    Map.of("executor.step.log.dir", steps.toString(), "executor.warmup.ms", Long.toString(warmUpMs),
                            "control.enabled", "false",        // the bench measures fixed schedules
                            "executor.max.in.flight", Integer.toString(inFlight)));
            ArmJob j = new ArmJob(first.jobKey(), label, steps, job, first.schedule.getVersion());
            j.arms.add(first);
            byKey.put(first.jobKey(), j);
        }

        @Override
        public void close() throws Exception {
            Exception failed = null;
            for (ArmJob j : byKey.values()) {
                try {
                    j.job.close();
                } catch (Exception e) {
                    if (failed == null) failed = e; else failed.addSuppressed(e);
                }
            }
            if (failed != null) throw failed;
        }
    }

    /**
     * The arms on {@code scenario}'s profile: ExeGPT (what XScheduler plans for the SLO over {@link LocalRig#policiesFor}
     * the devices), on two or more devices the best plan of the other family too (ExeGPT-RRA beside a WAA pick,
     * ExeGPT-WAA beside an RRA pick, when one meets the SLO), the best STATIC batch for the SLO (batch 1 if none meets
     * it), CONTINUOUS and the vLLM a user of the model would run ({@link BoundSweep#vllmPolicy}: V1 for a decoder-only
     * model, V0 for an encoder-decoder one) at its best token budget and sequence cap for the SLO (its fastest if none
     * meets it), each with its schedule and the event simulator's run of the requests; their predictions
     * printed. The Poisson rate, when not given, is {@code load} x ExeGPT's plan.
     */
    private List<BenchArm> planArms(PrintStream out, Scenario scenario, long slo, int n, LocalRig.ModelFiles files, boolean bulk,
                               Double givenRate, int numDevices) {
        Workload workload = scenario.workload();
        XSimulator xsim = new XSimulator(scenario);
        XScheduler scheduler = new XScheduler(xsim);
        Plan plan = scheduler.plan(slo, LocalRig.policiesFor(numDevices));
        if (!plan.feasible()) throw new UserError("no ExeGPT schedule meets --slo-ms " + slo + ": " + plan.runnerUpNote());
        List<Map.Entry<String, Estimate>> planned = new ArrayList<>();
        planned.add(Map.entry("ExeGPT", plan.best()));
        if (numDevices > 1) {
            boolean pickedWaa = plan.best().candidate().policy() != Policy.RRA;
            Plan other = scheduler.plan(slo, pickedWaa ? List.of(Policy.RRA) : List.of(Policy.WAA_C, Policy.WAA_M));
            if (other.feasible()) {
                planned.add(Map.entry(pickedWaa ? "ExeGPT-RRA" : "ExeGPT-WAA", other.best()));
            } else {
                out.printf("  no %s schedule meets %d ms: no second ExeGPT arm%n", pickedWaa ? "RRA" : "WAA", slo);
            }
        }
        Estimate fixed = Baselines.best(xsim, Policy.STATIC, slo);
        if (fixed == null) {
            fixed = xsim.estimate(Baselines.staticCandidate(xsim, 1));
            out.printf("  no STATIC batch meets %d ms; STATIC runs batch 1%n", slo);
        }
        planned.add(Map.entry("STATIC", fixed));
        planned.add(Map.entry("CONTINUOUS", xsim.estimate(Baselines.candidates(xsim, Policy.CONTINUOUS).get(0))));
        Policy vllmPolicy = BoundSweep.vllmPolicy(xsim);
        Estimate vllm = Baselines.best(xsim, vllmPolicy, slo);
        if (vllm == null) {
            vllm = Baselines.candidates(xsim, vllmPolicy).stream().map(xsim::estimate)
                    .min(java.util.Comparator.comparingDouble(Estimate::latencyMs)).orElseThrow();
            out.printf("  no %s token budget and sequence cap meet %d ms; %s runs its fastest, %s%n", vllmPolicy, slo, vllmPolicy,
                    vllm.candidate().describe());
        }
        planned.add(Map.entry(vllmPolicy.name(), vllm));
        double offered = bulk ? 0 : givenRate != null ? givenRate : load * plan.best().sequencesPerSecond();
        ArrivalProcess arrival = bulk ? new ArrivalProcess.Bulk() : new ArrivalProcess.Poisson(offered);
        EventSimulator events = new EventSimulator(xsim);
        ScheduleCodec.Origin origin = origin(files, numDevices, workload);
        List<BenchArm> arms = new ArrayList<>();
        for (Map.Entry<String, Estimate> e : planned) {
            Estimate est = e.getValue();
            Schedule sched = ScheduleCodec.fromEstimate(est, origin, slo, Map.of("bench", e.getKey()));
            BenchArm arm = new BenchArm(e.getKey(), est, sched, events.run(est.candidate(), n, seed, arrival), xsim);
            arm.offeredRate = offered;
            arms.add(arm);
        }
        for (BenchArm a : arms) {
            out.printf("  %-34s predicted %.2f requests/s at saturation, %.0f ms for a %d-token output%s; layout %s%n", a.label(),
                    a.estimate.sequencesPerSecond(), a.estimate.latencyMs(), a.estimate.boundOutputTokens(),
                    a.estimate.meets(slo) ? "" : " (over the SLO)", a.plannedLayout);
        }
        return arms;
    }

    private static ScheduleCodec.Origin origin(LocalRig.ModelFiles files, int numDevices, Workload workload) {
        return new ScheduleCodec.Origin(files.model().getFileName().toString(), "cpu:" + numDevices, workload.name(),
                System.currentTimeMillis());
    }

    /** Sends one round's requests at their drawn offsets, tagged with policy and round, and waits for every result. */
    private static List<InferenceResult> runRound(LocalRig.RunningJob job, BenchArm arm, int round, List<FidelityRun.Drawn> drawn,
                                                  String idPrefix, String task) throws Exception {
        List<InferenceRequest> requests = new ArrayList<>(drawn.size());
        for (int i = 0; i < drawn.size(); i++) {
            FidelityRun.Lengths l = drawn.get(i).lengths();
            int[] ids = FidelityRun.prompt(l.numInputTokens(), i);
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("bench.policy", arm.name);
            metadata.put("bench.round", Integer.toString(round));
            requests.add(new InferenceRequest(idPrefix + i, task, null, FidelityRun.toList(ids), Math.max(1, l.numOutputTokens()),
                    true, arm.requestSloMs, null, null, metadata));
        }
        double firstMs = drawn.get(0).arrivalMs();
        CompletableFuture<RequestSender.Report> sending = CompletableFuture.supplyAsync(() ->
                new RequestSender(KafkaClients.producer(job.bootstrap(), "exegpt-bench"), job.requestsTopic())
                        .sendAt(requests.iterator(), i -> (long) ((drawn.get((int) i).arrivalMs() - firstMs) * 1e6), p -> {}));
        double sendS = (drawn.get(drawn.size() - 1).arrivalMs() - firstMs) / 1000;
        long timeoutMs = (long) (1000 * (120 + 3 * sendS)) + 2_000L * drawn.size();
        List<InferenceResult> results = job.collect(id -> id.startsWith(idPrefix), drawn.size(), timeoutMs, null);
        sending.get();
        if (results.size() < drawn.size()) {
            throw new UserError("round " + round + " " + arm.name + ": only " + results.size() + " of " + drawn.size()
                    + " results arrived within " + timeoutMs / 1000 + " s");
        }
        return results;
    }

    private static Double parseRate(String rate) {
        if (rate.equals("auto")) return null;
        try {
            double r = Double.parseDouble(rate);
            if (r > 0 && !Double.isInfinite(r)) return r;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UserError("--rate " + rate + ": expected a positive number of requests/s, or auto", CliErrors.EXIT_USAGE);
    }
}
