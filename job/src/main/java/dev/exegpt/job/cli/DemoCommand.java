package dev.exegpt.job.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;
import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.BrokerOptions;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.LocalKafkaBroker;
import dev.exegpt.job.kafka.RequestSender;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.job.pipeline.ExegptJob;
import dev.exegpt.operators.core.Audit;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.Policy;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.schemas.AuditWindow;
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
final class DemoCommand implements Callable<Integer> {

    private static final String PROBE_PREFIX = "demo-probe-";

    /** The automatic SLO is this many times the fastest latency any schedule reaches: room for batching. */
    static final double SLO_HEADROOM = 4;

    @Option(names = "--dir", defaultValue = "target/exegpt-demo", description = "Working folder. Default: ${DEFAULT-VALUE}.")
    Path dir;

    @Option(names = "--arch", defaultValue = "t5", description = "t5 or opt. Default: ${DEFAULT-VALUE}.")
    String arch;

    @Option(names = "--size", defaultValue = "small", description = "tiny, small or base. Default: ${DEFAULT-VALUE}.")
    String size;

    @Option(names = "--task", defaultValue = "S", description = "Workload task (S: the paper's summarization). Default: ${DEFAULT-VALUE}.")
    String task;

    @Option(names = "--requests", defaultValue = "200", description = "Requests to send. Default: ${DEFAULT-VALUE}.")
    int numRequests;

    @Option(names = "--slo-ms", defaultValue = "auto",
            description = "Latency bound of a p99-length request, ms; auto: four times the fastest any schedule reaches here. Default: ${DEFAULT-VALUE}.")
    String sloMs;

    @Option(names = "--load", defaultValue = "0.7",
            description = "Offered load as a fraction of the planned throughput (Poisson arrivals). Default: ${DEFAULT-VALUE}.")
    double load;

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
        PrintStream out = System.out;
        long startNanos = System.nanoTime();
        Path model = dir.resolve("model-" + arch + "-" + size);
        Path profile = dir.resolve("profile-" + arch + "-" + size + ".json");
        Path scheduleFile = dir.resolve("schedule-" + arch + "-" + size + "-" + task + ".json");

        step(out, 1, "model", model);
        if (!Files.exists(model.resolve("model.safetensors"))) {
            exec("model", "init", "--arch", arch, "--size", size, "--seed", "42", "--out", model.toString());
        }
        step(out, 2, "profile", profile);
        if (!Files.exists(profile)) {
            exec("profile", "--model", model.toString(), "--backend", "cpu", "--tp", "1", "--repeats", "3", "--warmups", "1",
                    "--out", profile.toString());
        }
        step(out, 3, "plan", scheduleFile);
        Planned planned = plan(out, profile, scheduleFile);

        step(out, 4, "kafka", dir.resolve("kafka"));
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(BrokerOptions.ephemeral(freshDir(dir.resolve("kafka"))))) {
            try (Admin admin = broker.admin()) {
                Topics.create(admin, Topics.all(), Topics.DEFAULT_PARTITIONS);
            }
            out.printf("  broker at %s%n", broker.bootstrapServers());
            double rate = load * planned.schedule().getPredictedSequencesPerSecond();
            step(out, 5, String.format("flink job with the planned schedule; %d requests of task %s, Poisson at %.2f requests/s"
                    + " (%.0f%% of the planned %.2f)", numRequests, task, rate, 100 * load,
                    planned.schedule().getPredictedSequencesPerSecond()), null);
            AuditWindow exegpt = runSchedule(out, broker, model, scheduleFile, planned, rate, "exegpt");
            out.println();
            AuditSummary.print(out, exegpt);
            out.printf("  planned: %.2f requests/s at saturation, %.0f ms for a %d-token output (SLO %d ms)%n",
                    planned.schedule().getPredictedSequencesPerSecond(), planned.schedule().getPredictedLatencyMs(),
                    planned.schedule().getBoundOutputTokens(), planned.sloMs());
            if (baseline.equals("static")) {
                Schedule fixed = Schedule.newBuilder(planned.schedule()).setScheduleId("static-b" + planned.schedule().getDecodeBatchSize())
                        .setPolicy(SchedulePolicy.STATIC).setEncodeBatchSize(Math.max(1, planned.schedule().getDecodeBatchSize()))
                        .build();
                Path staticFile = dir.resolve("schedule-static.json");
                ScheduleCodec.write(fixed, staticFile);
                step(out, 6, String.format("the same requests under STATIC (FasterTransformer-style, batch %d = the plan's decode batch)",
                        fixed.getEncodeBatchSize()), null);
                AuditWindow baselineAudit = runSchedule(out, broker, model, staticFile, new Planned(fixed, planned.sloMs()), rate, "static");
                out.println();
                AuditSummary.print(out, baselineAudit);
                printComparison(out, exegpt, baselineAudit);
            }
        }
        out.printf("demo finished in %.0f s; broker and job stopped%n", (System.nanoTime() - startNanos) / 1e9);
        return 0;
    }

    private record Planned(Schedule schedule, long sloMs) {}

    private Planned plan(PrintStream out, Path profile, Path scheduleFile) throws Exception {
        ScenarioOptions options = new ScenarioOptions();
        options.profile = profile;
        options.task = task;
        options.batchFormula = "little";
        Scenario scenario = options.scenario();
        XScheduler scheduler = new XScheduler(new XSimulator(scenario));
        long slo;
        if (sloMs.equals("auto")) {
            Estimate fastest = scheduler.plan(Double.POSITIVE_INFINITY, List.of(Policy.RRA)).fastest();
            if (fastest == null) {
                throw new UserError("no RRA schedule fits this machine for task " + task);
            }
            slo = (long) Math.ceil(SLO_HEADROOM * fastest.latencyMs() / 100.0) * 100;
            out.printf("  fastest schedule reaches %.0f ms for a p99-length output; SLO set to %.0fx that: %d ms%n",
                    fastest.latencyMs(), SLO_HEADROOM, slo);
        } else {
            slo = (long) ScenarioOptions.latencyBoundMs("--slo-ms", sloMs);
        }
        // The Flink executors run single-engine schedules: RRA (WAA needs two device groups, which one CPU lacks).
        Plan plan = scheduler.plan(slo, List.of(Policy.RRA));
        if (!plan.feasible()) {
            throw new UserError("no schedule meets --slo-ms " + slo + ": " + plan.runnerUpNote());
        }
        Schedule schedule = ScheduleCodec.fromPlan(plan, new ScheduleCodec.Origin(profile.getFileName().toString().replace("profile-", "").replace(".json", ""), "cpu:1",
                task, System.currentTimeMillis()));
        ScheduleCodec.write(schedule, scheduleFile);
        out.printf("  schedule: %s B_E=%d N_D=%d (decode batch %d); predicted %.2f requests/s, %.0f ms; %d candidates in %.0f ms%n",
                schedule.getPolicy(), schedule.getEncodeBatchSize(), schedule.getDecodeIterationsPerEncode(),
                schedule.getDecodeBatchSize(), schedule.getPredictedSequencesPerSecond(), schedule.getPredictedLatencyMs(),
                plan.numSimulated(), plan.searchTimeMs());
        return new Planned(schedule, slo);
    }

    /** Runs the job with one schedule on topics of its own, sends the requests, and audits their results. */
    private AuditWindow runSchedule(PrintStream out, LocalKafkaBroker broker, Path model, Path scheduleFile, Planned planned,
                                    double rate, String label) throws Exception {
        String requests = Topics.REQUESTS + "." + label;
        String results = Topics.RESULTS + "." + label;
        List<String> topics = List.of(requests, results, Topics.DEAD_LETTER + "." + label, Topics.AUDIT + "." + label,
                Topics.SCHEDULES + "." + label);
        try (Admin admin = broker.admin()) {
            Topics.create(admin, topics, Topics.DEFAULT_PARTITIONS);
        }
        JobConfig config = JobConfig.load(null, Map.ofEntries(
                Map.entry("kafka.bootstrap", broker.bootstrapServers()),
                Map.entry("kafka.group.id", "exegpt-demo-" + label),
                Map.entry("topic.requests", requests),
                Map.entry("topic.results", results),
                Map.entry("topic.deadletter", topics.get(2)),
                Map.entry("topic.audit", topics.get(3)),
                Map.entry("topic.schedules", topics.get(4)),
                Map.entry("model.dir", model.toString()),
                Map.entry("model.backend", "cpu"),
                Map.entry("schedule.file", scheduleFile.toString()),
                Map.entry("task.slo.ms." + task, Long.toString(planned.sloMs())),
                Map.entry("audit.window.ms", "5000")));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1,
                ExegptJob.flinkConfiguration(Path.of("flink-conf")));
        ExegptJob.addStreamingJob(env, config, ExegptJob.settings(config));
        JobClient job = env.executeAsync("exegpt demo " + label);
        try {
            awaitReady(out, broker.bootstrapServers(), requests, results);
            List<InferenceResult> answered = sendAndCollect(out, broker.bootstrapServers(), rate, requests, results);
            return Audit.summarize(answered, answered.stream().mapToLong(r -> r.getLatency().getArrivedEpochMs()).min().orElse(0),
                    answered.stream().mapToLong(r -> r.getLatency().getCompletedEpochMs()).max().orElse(1),
                    planned.schedule().getBoundOutputTokens());
        } finally {
            job.cancel().get();
        }
    }

    /**
     * Sends one probe request and waits for its answer, so that the measured requests do not queue behind the job's
     * start-up and the engines' warm-up (their latency would then measure the start, not the schedule).
     */
    private void awaitReady(PrintStream out, String bootstrap, String requestsTopic, String resultsTopic) throws Exception {
        long t0 = System.nanoTime();
        InferenceRequest probe = InferenceRequest.newBuilder().setRequestId(PROBE_PREFIX + UUID.randomUUID()).setTask(task)
                .setPromptText("ready?").setMaxNewTokens(1).build();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(bootstrap, "exegpt-demo-probe"))) {
            producer.send(new ProducerRecord<>(requestsTopic, probe.getRequestId().getBytes(StandardCharsets.UTF_8),
                    new AvroBinary<InferenceRequest>(InferenceRequest.getClassSchema()).encode(probe))).get();
        }
        AvroBinary<InferenceResult> codec = new AvroBinary<>(InferenceResult.getClassSchema());
        long deadline = System.currentTimeMillis() + 300_000;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(bootstrap, "exegpt-demo-probe-" + resultsTopic))) {
            consumer.subscribe(List.of(resultsTopic));
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (codec.decode(record.value()).getRequestId().equals(probe.getRequestId())) {
                        out.printf("  job ready (engine warmed up) after %.1f s%n", (System.nanoTime() - t0) / 1e9);
                        return;
                    }
                }
            }
        }
        throw new UserError("the job did not answer a probe request within 300 s");
    }

    private static void printComparison(PrintStream out, AuditWindow exegpt, AuditWindow baseline) {
        out.println();
        out.printf("%-10s %12s %10s %10s %12s %14s%n", "schedule", "requests/s", "p50 ms", "p99 ms", "attainment", "goodput req/s");
        for (AuditWindow w : List.of(exegpt, baseline)) {
            out.printf("%-10s %12.2f %10.0f %10.0f %11.1f%% %14.2f%n", w.getScheduleId().startsWith("static") ? "STATIC" : "ExeGPT",
                    w.getRequestsPerSecond(), w.getEndToEndP50Ms(), w.getEndToEndP99Ms(),
                    100 * (w.getAttainment() == null ? 0 : w.getAttainment()), w.getGoodputRequestsPerSecond());
        }
        out.printf("ExeGPT / STATIC: throughput %.2fx, goodput %s%n", exegpt.getRequestsPerSecond() / baseline.getRequestsPerSecond(),
                baseline.getGoodputRequestsPerSecond() > 0
                        ? String.format("%.2fx", exegpt.getGoodputRequestsPerSecond() / baseline.getGoodputRequestsPerSecond())
                        : "(STATIC met no SLO)");
    }

    private List<InferenceResult> sendAndCollect(PrintStream out, String bootstrap, double rate, String requestsTopic,
                                                 String resultsTopic) throws Exception {
        CompletableFuture<RequestSender.Report> sending = CompletableFuture.supplyAsync(() -> {
            try (TaskRequests requests = TaskRequests.open(task, numRequests, 7, null, true, null)) {
                return new RequestSender(KafkaClients.producer(bootstrap, "exegpt-demo"), requestsTopic)
                        .send(requests, new RequestSender.Arrival(rate, 7), p -> {});
            }
        });
        List<InferenceResult> results = new ArrayList<>();
        AvroBinary<InferenceResult> codec = new AvroBinary<>(InferenceResult.getClassSchema());
        long lastProgress = System.nanoTime();
        long deadline = System.currentTimeMillis() + Math.max(600_000, (long) (3_000 * numRequests / rate));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(bootstrap, "exegpt-demo-" + resultsTopic))) {
            consumer.subscribe(List.of(resultsTopic));
            while (results.size() < numRequests && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    InferenceResult r = codec.decode(record.value());
                    if (!r.getRequestId().startsWith(PROBE_PREFIX)) {
                        results.add(r);
                    }
                }
                if (System.nanoTime() - lastProgress > 5_000_000_000L) {
                    lastProgress = System.nanoTime();
                    out.printf("  %d/%d results%n", results.size(), numRequests);
                }
            }
        }
        sending.get();
        if (results.size() < numRequests) {
            throw new UserError("only " + results.size() + " of " + numRequests + " results arrived in time");
        }
        return results;
    }

    private static void step(PrintStream out, int n, String what, Path where) {
        out.printf("[%d] %s%s%n", n, what, where == null ? "" : " (" + where + ")");
    }

    private static void exec(String... args) {
        int code = Exegpt.run(args);
        if (code != 0) {
            throw new UserError("demo stopped: 'exegpt " + String.join(" ", args) + "' failed (exit " + code + ")");
        }
    }

    private static Path freshDir(Path path) throws java.io.IOException {
        if (Files.exists(path)) {
            try (var files = Files.walk(path)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        return Files.createDirectories(path);
    }
}
