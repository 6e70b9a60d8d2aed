package dev.exegpt.job.cli;

import dev.exegpt.job.pipeline.JsonLines;
import dev.exegpt.job.report.AuditReportInput;
import dev.exegpt.job.report.AuditSummary;
import dev.exegpt.job.report.HtmlReport;
import dev.exegpt.job.report.ScheduleChange;
import dev.exegpt.schemas.ExecutorSteps;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;
import dev.exegpt.job.local.LocalRig;
import dev.exegpt.job.local.SimulatorYardstick;
import dev.exegpt.job.kafka.BrokerOptions;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.LocalKafkaBroker;
import dev.exegpt.job.kafka.RequestSender;
import dev.exegpt.job.kafka.RequestSource;
import dev.exegpt.job.kafka.TaskRequests;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.job.report.Arrivals;
import dev.exegpt.job.report.Figure;
import dev.exegpt.job.report.FigureTable;
import dev.exegpt.job.report.ReportInput;
import dev.exegpt.job.report.RunFigures;
import dev.exegpt.job.report.SloClock;
import dev.exegpt.runtime.profile.ProfileGrid;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.control.StreamingChoice;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/**
 * {@code exegpt demo}: the whole system on a fresh machine with nothing running. Makes a small T5 checkpoint,
 * profiles it, plans the schedule for the paper's summarization task under an SLO this machine can meet, starts a
 * real Kafka broker and the Flink job, sends requests at a Poisson rate below the planned capacity, prints the audit,
 * and shuts everything down. Checkpoint, profile and schedule are kept in {@code --dir} and reused.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole system once: model, profile, plan, Kafka broker, Flink job, requests, audit.",
                "Everything is made under --dir (kept for the next run) and stopped at the end."})
final class DemoCommand extends LocalModelOptions implements Callable<Integer> {

    @Option(names = "--dir", defaultValue = "target/exegpt-demo", description = "Working folder. Default: ${DEFAULT-VALUE}.")
    Path dir;

    @Option(names = "--requests", defaultValue = "200", description = "Requests to send. Default: ${DEFAULT-VALUE}.")
    int numRequests;

    @Option(names = "--slo-ms", defaultValue = "auto",
            description = "Latency bound of a p99-length request, ms; auto: four times the fastest any schedule reaches here. Default: ${DEFAULT-VALUE}.")
    String sloMs;

    @Option(names = "--load", defaultValue = "0.7",
            description = "Offered load as a fraction of the planned throughput (Poisson arrivals). Default: ${DEFAULT-VALUE}.")
    double load;

    @Option(names = "--no-control", description = "Run the planned schedule as it is: no control loop re-planning it while the job runs.")
    boolean noControl;

    @Option(names = "--baseline", defaultValue = "none",
            description = "none, or static: run the same requests again under a STATIC schedule and compare. Default: ${DEFAULT-VALUE}.")
    String baseline;

    @Override
    public Integer call() throws Exception {
        if (!baseline.equals("none") && !baseline.equals("static")) {
            throw new UserError("--baseline " + baseline + ": expected none or static", CliErrors.EXIT_USAGE);
        }
        if (numRequests < 1) {
            throw new UserError("--requests " + numRequests + ": must be >= 1", CliErrors.EXIT_USAGE);
        }
        if (!(load > 0 && load <= 4)) {
            throw new UserError("--load " + load + ": expected a fraction of the planned throughput in (0, 4]", CliErrors.EXIT_USAGE);
        }
        deviceChoices();     // a wrong --devices fails before anything is made
        PrintStream out = System.out;
        long startNanos = System.nanoTime();
        Path scheduleFile = dir.resolve("schedule-" + arch + "-" + size + "-" + task + ".json");
        step(out, 1, "model and profile", dir);
        ScenarioOptions forTask = new ScenarioOptions();
        forTask.task = task;
        // Plans and the loop start from the profile fitted to the engine under serving (all devices busy at once), as the
        // bench's do: the profile as measured, one device at a time, is 1.3-1.9x too fast for a job here.
        int numDevices = LocalRig.chooseDevices(out, deviceChoices(), dir, arch, size, ProfileGrid.DEFAULTS.jitWarmUpMs(),
                forTask.workload(), sloOrAuto(sloMs), forTask.workload());
        LocalRig.ModelFiles files = LocalRig.modelAndProfile(out, dir, arch, size, ProfileGrid.DEFAULTS.jitWarmUpMs(),
                forTask.workload(), numDevices);
        Path model = files.model();
        Path profile = files.profile();
        step(out, 2, "plan", scheduleFile);
        Planned planned = plan(out, profile, scheduleFile, numDevices);

        step(out, 3, "kafka", dir.resolve("kafka"));
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(BrokerOptions.ephemeral(LocalRig.freshDir(dir.resolve("kafka"))))) {
            try (Admin admin = broker.admin()) {
                Topics.create(admin, Topics.all(), Topics.DEFAULT_PARTITIONS);
            }
            out.printf("  broker at %s%n", broker.bootstrapServers());
            double rate = load * planned.schedule().getPredictedSequencesPerSecond();
            step(out, 4, String.format("flink job with the planned schedule; %d requests of task %s, Poisson at %.2f requests/s"
                    + " (%.0f%% of the planned %.2f)", numRequests, task, rate, 100 * load,
                    planned.schedule().getPredictedSequencesPerSecond()), null);
            RunFigures exegpt = runSchedule(out, broker, model, scheduleFile, planned, rate, "exegpt", profile);
            out.println();
            AuditSummary.print(out, exegpt, Arrivals.OPEN);
            out.printf("  planned: %.2f requests/s at saturation, %.0f ms from encode start for a %d-token output (SLO %d ms)%n",
                    planned.schedule().getPredictedSequencesPerSecond(), planned.schedule().getPredictedLatencyMs(),
                    planned.schedule().getBoundOutputTokens(), planned.sloMs());
            if (baseline.equals("static")) {
                Schedule fixed = Schedule.newBuilder(planned.schedule()).setScheduleId("static-b" + planned.schedule().getDecodeBatchSize())
                        .setPolicy(SchedulePolicy.STATIC).setEncodeBatchSize(Math.max(1, planned.schedule().getDecodeBatchSize()))
                        .setNumEncoderDevices(0).setNumDecoderDevices(0).setDecodeMicroBatchSize(0).build();
                Path staticFile = dir.resolve("schedule-static.json");
                ScheduleCodec.write(fixed, staticFile);
                step(out, 5, String.format("the same requests under STATIC (FasterTransformer-style, batch %d = the plan's decode batch)",
                        fixed.getEncodeBatchSize()), null);
                RunFigures baselineAudit = runSchedule(out, broker, model, staticFile, new Planned(fixed, planned.sloMs()), rate, "static",
                        null);
                out.println();
                AuditSummary.print(out, baselineAudit, Arrivals.OPEN);
                printComparison(out, exegpt, baselineAudit);
            }
        }
        out.printf("demo finished in %.0f s; broker and job stopped%n", (System.nanoTime() - startNanos) / 1e9);
        return 0;
    }

    private record Planned(Schedule schedule, long sloMs) {}

    private Planned plan(PrintStream out, Path profile, Path scheduleFile, int numDevices) throws Exception {
        ScenarioOptions options = new ScenarioOptions();
        options.profile = profile;
        options.profileDevices = numDevices;
        options.task = task;
        options.batchFormula = "little";
        Scenario scenario = options.scenario();
        XSimulator sim = new XSimulator(scenario);
        XScheduler scheduler = new XScheduler(sim);
        long slo;
        if (sloMs.equals("auto")) {
            slo = LocalRig.autoSloMs(out, scheduler, task, LocalRig.policiesFor(numDevices));
        } else {
            slo = (long) ScenarioOptions.latencyBoundMs("--slo-ms", sloMs);
        }
        // A streaming user's SLO counts the wait in the queue: the service bound is tightened until the event simulator puts
        // the schedule's p99 from arrival, offered --load of its own throughput, within the SLO (as the job's loop plans).
        List<Policy> policies = LocalRig.policiesFor(numDevices);
        StreamingChoice.Choice choice = StreamingChoice.overPolicies(sim, policies, slo)
                .choose(e -> load * e.sequencesPerSecond());
        if (choice == null || Double.isInfinite(choice.boundMs())) {
            Plan atSlo = scheduler.plan(slo, policies);
            throw new UserError("no schedule meets --slo-ms " + slo + ": " + atSlo.runnerUpNote());
        }
        Plan plan = scheduler.plan(choice.boundMs(), policies);
        Schedule schedule = ScheduleCodec.fromPlan(plan, new ScheduleCodec.Origin(profile.getFileName().toString().replace("profile-", "")
                .replace(".json", ""), "cpu:" + numDevices, task, System.currentTimeMillis()));
        schedule.setLatencyBoundMs((double) slo);       // the user's SLO; the service bound it was searched at is in the notes
        schedule.getNotes().put("serviceBoundMs", String.format(Locale.ROOT, "%.0f", choice.boundMs()));
        ScheduleCodec.write(schedule, scheduleFile);
        out.printf("  schedule: %s B_E=%d N_D=%d (decode batch %d) on %s; predicted %.2f requests/s, %.0f ms; %d candidates in %.0f ms%n",
                schedule.getPolicy(), schedule.getEncodeBatchSize(), schedule.getDecodeIterationsPerEncode(),
                schedule.getDecodeBatchSize(), LocalRig.plannedLayout(schedule), schedule.getPredictedSequencesPerSecond(),
                schedule.getPredictedLatencyMs(), plan.numSimulated(), plan.searchTimeMs());
        out.printf("  searched within a service bound of %.0f ms, so that at %.0f%% of its throughput the event simulator puts its p99"
                + " from arrival at %.0f ms (SLO %d ms)%s%n", choice.boundMs(), 100 * load, choice.p99E2eMs(), slo,
                choice.meets(slo) ? "" : "; no tighter bound brought it within the SLO, so the one with the lowest p99");
        return new Planned(schedule, slo);
    }

    /**
     * Runs the job with one schedule on topics of its own, sends the requests, and audits their results. With
     * {@code controlProfile}, the job's control loop keeps the schedule fitted to the engine as it runs (each change
     * printed as it is seen); without, the schedule stays as planned (a baseline).
     */
    private RunFigures runSchedule(PrintStream out, LocalKafkaBroker broker, Path model, Path scheduleFile, Planned planned,
                                    double rate, String label, Path controlProfile) throws Exception {
        // With the loop on, admission control answers at once what can no longer make its SLO, so that an overload makes
        // a few requests refused rather than every request late.
        Map<String, String> control = controlProfile == null || noControl ? Map.of("control.enabled", "false")
                : Map.of("control.profile", controlProfile.toString(), "admission.mode", "reject-late");
        out.printf("  control loop %s%n", controlProfile == null ? "off (a baseline runs as planned)" : noControl ? "off (--no-control)"
                : "on: the schedule follows the engine as it runs (profile " + controlProfile + "), admission control reject-late");
        try (LocalRig.RunningJob job = LocalRig.RunningJob.start(broker, model, scheduleFile, task, planned.sloMs(), "demo-" + label,
                control)) {
            out.printf("  job ready (engine warmed up) after %.1f s%n", job.awaitProbe(0, 300_000));
            Map<String, Integer> outputLengths = new java.util.concurrent.ConcurrentHashMap<>();
            List<InferenceResult> answered = sendAndCollect(out, job, rate, outputLengths);
            Path resultsFile = dir.resolve("results-" + label + ".jsonl");
            Path schedulesFile = dir.resolve("schedules-" + label + ".jsonl");
            Path report = dir.resolve("report-" + label + ".html");
            List<Schedule> decided = job.controlDecisions();
            JsonLines.write(resultsFile, InferenceResult.getClassSchema(), answered);
            JsonLines.write(schedulesFile, Schedule.getClassSchema(), decided);
            Path stepsFile = dir.resolve("steps-" + label + ".jsonl");
            JsonLines.write(stepsFile, ExecutorSteps.getClassSchema(), job.executorSteps());
            HtmlReport.write(report, AuditReportInput.of("exegpt demo: " + label, answered, 10, Arrivals.OPEN)
                    .withChanges(decided.stream().flatMap(d -> ScheduleChange.of(d).stream()).toList()));
            out.printf("  results in %s, the loop's schedules in %s, the engine steps in %s, the SLO report in %s%n", resultsFile,
                    schedulesFile, stepsFile, report);
            AuditSummary.printPerVersion(out, answered);
            RunFigures figures = RunFigures.of(answered, planned.schedule().getBoundOutputTokens());
            if (controlProfile != null && !noControl) {
                SimulatorYardstick.print(out, job.executorSteps(), answered, outputLengths, controlProfile, planned.schedule(), planned.sloMs(),
                        figures);
            }
            return figures;
        }
    }

    /** ExeGPT beside STATIC, with the figures of the report and the audit; requests arrived as they came (Poisson). */
    private static void printComparison(PrintStream out, RunFigures exegpt, RunFigures baseline) {
        out.println();
        List<Figure> figures = List.of(Figure.requests(), Figure.span(), Figure.requestsPerSecond(),
                Figure.attainment(SloClock.ARRIVAL, true), Figure.latency(SloClock.ARRIVAL, 50), Figure.latency(SloClock.ARRIVAL, 99),
                Figure.goodput(SloClock.ARRIVAL));
        ReportInput.Table t = FigureTable.of("demo", "", "schedule", List.of(new FigureTable.Line("ExeGPT", "", exegpt),
                new FigureTable.Line("STATIC", "", baseline)), figures);
        FigureTable.print(out, t.header(), t.cells());
        double exegptGoodput = exegpt.goodputPerSecond(SloClock.ARRIVAL);
        double baselineGoodput = baseline.goodputPerSecond(SloClock.ARRIVAL);
        out.printf("ExeGPT / STATIC: throughput %.2fx, goodput (SLO from arrival) %s%n",
                exegpt.requestsPerSecond() / baseline.requestsPerSecond(),
                baselineGoodput > 0 ? String.format("%.2fx", exegptGoodput / baselineGoodput) : "(STATIC met no SLO)");
    }

    /**
     * Sends the requests at {@code rate} and collects their results; {@code outputLengths} gets each request's asked
     * output length (exact: the demo's requests ignore EOS), which a refused request's result does not carry.
     */
    private List<InferenceResult> sendAndCollect(PrintStream out, LocalRig.RunningJob job, double rate,
                                                 Map<String, Integer> outputLengths) throws Exception {
        CompletableFuture<RequestSender.Report> sending = CompletableFuture.supplyAsync(() -> {
            try (TaskRequests requests = TaskRequests.open(task, numRequests, 7, null, true, null)) {
                RequestSource recorded = new RequestSource() {
                    @Override public boolean hasNext() { return requests.hasNext(); }
                    @Override public InferenceRequest next() {
                        InferenceRequest r = requests.next();
                        outputLengths.put(r.getRequestId(), r.getMaxNewTokens());
                        return r;
                    }
                    @Override public long expectedCount() { return requests.expectedCount(); }
                    @Override public long numSkipped() { return requests.numSkipped(); }
                    @Override public void close() {}
                };
                return new RequestSender(KafkaClients.producer(job.bootstrap(), "exegpt-demo"), job.requestsTopic())
                        .send(recorded, new RequestSender.Arrival(rate, 7), p -> {});
            }
        });
        List<InferenceResult> results = job.collect(id -> !LocalRig.isProbe(id), numRequests,
                Math.max(600_000, (long) (3_000 * numRequests / rate)), out);
        sending.get();
        if (results.size() < numRequests) {
            throw new UserError("only " + results.size() + " of " + numRequests + " results arrived in time");
        }
        return results;
    }

    private static void step(PrintStream out, int n, String what, Path where) {
        out.printf("[%d] %s%s%n", n, what, where == null ? "" : " (" + where + ")");
    }
}
