package dev.exegpt.job.cli;

import dev.exegpt.job.report.AuditSummary;
import dev.exegpt.job.pipeline.JsonLines;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.exegpt.job.cli.CliErrors.UserError;
import dev.exegpt.job.cluster.ClusterSubmission;
import dev.exegpt.job.cluster.FlinkJars;
import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.pipeline.BatchJob;
import dev.exegpt.job.pipeline.BatchPlanner;
import dev.exegpt.job.pipeline.ExegptJob;
import dev.exegpt.job.pipeline.JobOutput;
import dev.exegpt.job.pipeline.JobFailures;
import dev.exegpt.job.pipeline.PipelineSettings;
import dev.exegpt.job.pipeline.RetainedCheckpoints;
import dev.exegpt.operators.core.Audit;
import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.InferenceResult;

/**
 * {@code exegpt run}: the job on the embedded MiniCluster, Kafka to Kafka until Ctrl-C, or over a requests file in
 * Flink's batch mode ({@code --input/--output}) with progress and the audit summary at the end; with
 * {@code --jobmanager} the streaming job is submitted to a running Flink cluster instead.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the ExeGPT job on the embedded Flink MiniCluster: Kafka to Kafka (streaming, until Ctrl-C),",
                "or over a JSON-lines requests file in batch mode with --input and --output."})
final class RunCommand implements Callable<Integer> {

    @Option(names = "--config", description = "Job settings (properties). Default: flink-conf/exegpt.properties here or under EXEGPT_HOME.")
    Path configFile;

    @Option(names = "--flink-conf", defaultValue = "flink-conf", description = "Folder with Flink's config.yaml. Default: ${DEFAULT-VALUE}.")
    Path flinkConf;

    @Option(names = "--schedule", description = "Schedule file from 'exegpt plan' (overrides schedule.file).")
    Path schedule;

    @Option(names = "--profile", description = {"The profile the schedule was planned on (overrides control.profile): the job's control",
            "loop fits it to the engine's steps as the job runs and re-plans the schedule when it would miss the SLO."})
    Path profile;

    @Option(names = "--model", description = "Checkpoint folder (overrides model.dir).")
    Path model;

    @Option(names = "--bootstrap", description = "Kafka bootstrap servers (overrides kafka.bootstrap).")
    String bootstrap;

    @Option(names = "--executors", description = "Executors, one per device group (overrides executors).")
    Integer executors;

    @Option(names = "--set", description = "Any setting as key=value (repeatable), e.g. --set task.slo.ms.wmt=8000.")
    List<String> settings = new ArrayList<>();

    @Option(names = "--input", description = "Batch mode: JSON-lines requests file (fields as in InferenceRequest.avsc).")
    Path input;

    @Option(names = "--output", description = "Batch mode: results file (Avro JSON lines); dead letters go to <output>.deadletter.jsonl.")
    Path output;

    @Option(names = "--jobmanager", paramLabel = "HOST:PORT",
            description = {"Submit the streaming job to a running Flink cluster at this REST address (e.g. the one 'exegpt cluster start'",
                    "prints) instead of the embedded MiniCluster; prints the job id and returns."})
    String jobManager;

    @Option(names = "--state-dir", defaultValue = "target/exegpt-run",
            description = {"Streaming on the embedded MiniCluster: where the job keeps its checkpoints (<dir>/<group id>/checkpoints),",
                    "so that the same command started again resumes from the latest one. Default: ${DEFAULT-VALUE}."})
    Path stateDir;

    @Option(names = "--fresh", description = {"Streaming: start from nothing instead of the latest checkpoint in --state-dir",
            "(offsets from the consumer group's committed ones; ids seen before are not deduplicated)."})
    boolean fresh;

    private String clusterVersion;

    @Option(names = "--slo-ms", defaultValue = "none",
            description = {"Batch mode without a schedule: the latency bound of a p99-length output the plan must meet;",
                    "none: the highest throughput (the file finishes soonest). Default: ${DEFAULT-VALUE}."})
    String sloMs;

    @Option(names = "--jar", description = "With --jobmanager: the shaded job jar to send. Default: the running jar, else job/target/exegpt.jar.")
    Path jobJar;

    @Override
    public Integer call() throws Exception {
        if ((input == null) != (output == null)) {
            throw new UserError("--input and --output go together (batch mode); give both or neither", CliErrors.EXIT_USAGE);
        }
        ClusterSubmission.Address cluster = null;
        if (jobManager != null) {
            if (input != null) {
                throw new UserError("--jobmanager submits the streaming (Kafka) job; batch mode (--input/--output) runs on the embedded"
                        + " MiniCluster: drop one of them", CliErrors.EXIT_USAGE);
            }
            try {
                cluster = ClusterSubmission.Address.parse(jobManager);
            } catch (IllegalArgumentException e) {
                throw new UserError("--jobmanager: " + e.getMessage(), CliErrors.EXIT_USAGE);
            }
            try {
                clusterVersion = ClusterSubmission.checkReachable(cluster);
            } catch (IOException e) {
                throw new UserError("--jobmanager " + cluster + ": " + e.getMessage());
            }
        }
        JobConfig config = loadConfig();
        PipelineSettings pipeline = settings(config);          // a missing checkpoint is named before anything is planned
        if (input != null && config.scheduleFile() == null) {
            config = planBatch(config);
            pipeline = settings(config);
        }
        Configuration flink = ExegptJob.flinkConfiguration(flinkConf);
        if (cluster != null) {
            return submit(cluster, flink, config, pipeline);
        }
        if (input == null) {
            resumeOrStartFresh(flink, config);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(
                Math.max(1, config.numExecutors()), flink);
        // Batch mode reads and writes files: no Kafka to close a control loop through (the plan is made from the file).
        return input != null ? runBatch(env, pipeline.withoutControl()) : runStreaming(env, config, pipeline);
    }

    private int submit(ClusterSubmission.Address cluster, Configuration flink, JobConfig config, PipelineSettings pipeline)
            throws Exception {
        String version = clusterVersion;
        Path jar;
        try {
            jar = FlinkJars.jobJar(jobJar);
        } catch (IOException e) {
            throw new UserError("--jobmanager " + cluster + ": " + e.getMessage());
        }
        try {
            KafkaClients.checkReachable(config.bootstrap(), config.topics().requests(), 5_000);
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage());
        }
        JobID id = ClusterSubmission.submit(cluster, jar, flink, config, pipeline);
        System.out.printf("submitted job %s to the Flink %s cluster at http://%s (jar %s)%n", id, version, cluster, jar);
        System.out.printf("  %s -> %s at %s; model %s must be readable at that path on every TaskManager%n",
                config.topics().requests(), config.topics().results(), config.bootstrap(), config.modelDir());
        System.out.printf("job id: %s%n", id);
        System.out.printf("cancel with: curl -X PATCH 'http://%s/jobs/%s?mode=cancel'%n", cluster, id);
        return 0;
    }

    private static PipelineSettings settings(JobConfig config) {
        try {
            return ExegptJob.settings(config);
        } catch (IOException e) {
            throw new UserError("model.dir " + config.modelDir() + ": no checkpoint there (" + e.getMessage()
                    + "); make one with 'exegpt model init --arch t5 --size small --out " + config.modelDir() + "'");
        }
    }

    /**
     * Batch mode with no schedule: plans one from the file and the model's profile ({@link BatchPlanner}: --profile, or
     * the one cached under --state-dir, made once), prints it, and runs under it.
     */
    private JobConfig planBatch(JobConfig config) throws Exception {
        if (!Files.isRegularFile(input)) {
            throw new UserError("--input " + input + ": no such file", CliErrors.EXIT_USAGE);
        }
        double bound = ScenarioOptions.latencyBoundMs("--slo-ms", sloMs);
        BatchPlanner.Planned planned;
        try {
            planned = BatchPlanner.plan(input, Path.of(config.modelDir()), stateDir.resolve("batch"), profile, bound,
                    config.kvCacheMib() << 20, List.of(dev.exegpt.scheduler.plan.Policy.RRA), System.out);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        System.out.printf("  schedule %s (run it again with --schedule %s)%n", planned.scheduleFile(), planned.scheduleFile());
        planFile = planned.scheduleFile();
        return loadConfig();
    }

    private Path planFile;

    private JobConfig loadConfig() throws IOException {
        Path file = configFile;
        String home = System.getenv("EXEGPT_HOME");
        for (Path candidate : home == null ? List.of(Path.of("flink-conf")) : List.of(Path.of("flink-conf"), Path.of(home, "flink-conf"))) {
            if (file == null && Files.isRegularFile(candidate.resolve("exegpt.properties"))) {
                file = candidate.resolve("exegpt.properties");
            }
        }
        Map<String, String> overrides = new LinkedHashMap<>();
        for (String kv : settings) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new UserError("--set " + kv + ": expected key=value", CliErrors.EXIT_USAGE);
            }
            overrides.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
        if (schedule != null) {
            overrides.put("schedule.file", schedule.toString());
        } else if (planFile != null) {
            overrides.put("schedule.file", planFile.toString());
        }
        if (model != null) {
            overrides.put("model.dir", model.toString());
        }
        if (profile != null) {
            overrides.put("control.profile", profile.toAbsolutePath().toString());
        }
        if (bootstrap != null) {
            overrides.put("kafka.bootstrap", bootstrap);
        }
        if (executors != null) {
            overrides.put("executors", executors.toString());
        }
        JobConfig loaded = JobConfig.load(file, overrides);
        if (jobManager != null && !Path.of(loaded.modelDir()).isAbsolute()) {
            // TaskManagers run in their own working directory: give them the path as this shell sees it.
            overrides.put("model.dir", Path.of(loaded.modelDir()).toAbsolutePath().toString());
            loaded = JobConfig.load(file, overrides);
        }
        return loaded;
    }

    /**
     * The embedded streaming job keeps its checkpoints in {@code --state-dir} and resumes from the newest completed
     * one unless {@code --fresh}; says which, and what the restart guarantees.
     */
    private void resumeOrStartFresh(Configuration flink, JobConfig config) {
        Path checkpoints = stateDir.resolve(config.groupId()).resolve("checkpoints").toAbsolutePath();
        RetainedCheckpoints.Completed latest = fresh ? null : RetainedCheckpoints.latest(checkpoints).orElse(null);
        RetainedCheckpoints.configure(flink, checkpoints, latest);
        if (latest != null) {
            long ageS = (System.currentTimeMillis() - latest.completedAt().toMillis()) / 1000;
            System.out.printf("resuming from checkpoint %s (completed %d s ago): Kafka offsets, deduplication state, the schedule "
                    + "in force and the requests in flight come back; results it covered are committed, later ones are produced "
                    + "again (exactly once for read-committed consumers). --fresh starts from nothing.%n", latest.dir(), ageS);
        } else if (fresh) {
            System.out.printf("--fresh: starting without the checkpoints in %s; requests are read from the consumer group's "
                    + "committed offsets, ids seen before are not deduplicated, and results of a previous run that were not "
                    + "committed are not produced again.%n", checkpoints);
        } else {
            System.out.printf("no checkpoint in %s: starting fresh (requests from the consumer group's committed offsets); "
                    + "from now on checkpoints are kept there and a restart of this command resumes from the latest.%n",
                    checkpoints);
        }
        if (java.nio.file.Files.isDirectory(checkpoints)) {
            RetainedCheckpoints.pruneOlderRuns(checkpoints, latest);
        }
    }

    private int runStreaming(StreamExecutionEnvironment env, JobConfig config, PipelineSettings pipeline) throws Exception {
        try {
            KafkaClients.checkReachable(config.bootstrap(), config.topics().requests(), 5_000, config.kafkaClient());
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage());
        }
        ExegptJob.addStreamingJob(env, config, pipeline);
        System.out.printf("exegpt job: %s -> %s (dead letters: %s, audit: %s) at %s; Ctrl-C stops it%n",
                config.topics().requests(), config.topics().results(), config.topics().deadLetter(), config.topics().audit(),
                config.bootstrap());
        config.describe().forEach((k, v) -> System.out.printf("  %s = %s%n", k, v));
        try {
            env.execute("exegpt " + pipeline.schedule().getScheduleId());
        } catch (Exception e) {
            throw new UserError("the job failed: " + JobFailures.describe(e));
        }
        return 0;
    }

    private int runBatch(StreamExecutionEnvironment env, PipelineSettings pipeline) throws Exception {
        if (!Files.isRegularFile(input)) {
            throw new UserError("--input " + input + ": no such file", CliErrors.EXIT_USAGE);
        }
        long total;
        try (Stream<String> lines = Files.lines(input)) {
            total = lines.filter(l -> !l.isBlank()).count();
        }
        Path deadLetterFile = Path.of(output + ".deadletter.jsonl");
        PrintStream out = System.out;
        out.printf("batch: %,d requests from %s -> %s%n", total, input, output);
        List<InferenceResult> forAudit = new ArrayList<>();
        long startMs = System.currentTimeMillis();
        long done = 0;
        long numDead = 0;
        Progress progress = new Progress(out, total);
        JsonLines resultJson = new JsonLines(InferenceResult.getClassSchema());
        JsonLines deadJson = new JsonLines(DeadLetter.getClassSchema());
        try (CloseableIterator<JobOutput> it = BatchJob.run(env, input, pipeline);
             BufferedWriter results = Files.newBufferedWriter(output);
             BufferedWriter dead = Files.newBufferedWriter(deadLetterFile)) {
            while (it.hasNext()) {
                JobOutput o = it.next();
                if (o.result() != null) {
                    results.write(resultJson.encode(o.result()));
                    results.newLine();
                    forAudit.add(InferenceResult.newBuilder(o.result()).setOutputTokenIds(List.of()).setOutputText("").build());
                } else {
                    dead.write(deadJson.encode(o.deadLetter()));
                    dead.newLine();
                    numDead++;
                }
                progress.update(++done);
            }
        }
        progress.finish(done);
        out.printf("wrote %,d results to %s and %,d dead letters to %s%n", forAudit.size(), output, numDead, deadLetterFile);
        if (!forAudit.isEmpty()) {
            AuditSummary.print(out, Audit.summarize(forAudit, startMs, System.currentTimeMillis(),
                    pipeline.schedule().getBoundOutputTokens()));
        }
        return done == total ? 0 : CliErrors.EXIT_FAILURE;
    }

    /** A progress line about once a second: done/total, rate, ETA. */
    private static final class Progress {
        private final PrintStream out;
        private final long total;
        private final long startNanos = System.nanoTime();
        private long lastPrintNanos = System.nanoTime();

        Progress(PrintStream out, long total) {
            this.out = out;
            this.total = total;
        }

        void update(long done) {
            long now = System.nanoTime();
            if (now - lastPrintNanos >= 1_000_000_000L) {
                lastPrintNanos = now;
                print(done, now);
            }
        }

        void finish(long done) {
            print(done, System.nanoTime());
        }

        private void print(long done, long now) {
            double seconds = (now - startNanos) / 1e9;
            double rate = seconds > 0 ? done / seconds : 0;
            long etaSeconds = rate > 0 ? (long) ((total - done) / rate) : -1;
            out.printf("  %,d/%,d (%.0f%%) %.1f requests/s, ETA %s%n", done, total, total == 0 ? 100.0 : 100.0 * done / total,
                    rate, etaSeconds < 0 ? "?" : String.format("%dm%02ds", etaSeconds / 60, etaSeconds % 60));
        }
    }
}
