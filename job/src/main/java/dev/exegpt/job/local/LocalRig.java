package dev.exegpt.job.local;

import dev.exegpt.job.bench.FidelityRun;
import dev.exegpt.job.bench.ServingFit;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.LocalKafkaBroker;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.job.pipeline.ExegptJob;
import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.runner.Policies;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.profile.ProfileGrid;
import dev.exegpt.runtime.profile.XProfiler;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.DType;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.runtime.weights.RandomWeights;
import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.ExecutorSteps;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.scheduler.cost.fit.ProfileScaling;

/**
 * What {@code demo} and {@code bench} share: a seeded model and its XProfiler profile made once under a folder,
 * the automatic SLO, and the streaming job on a local broker with topics of its own, a readiness probe, schedules
 * published at run time and the results collected from the results topic.
 */
public final class LocalRig {

    /** The automatic SLO is this many times the fastest latency any schedule reaches: room for batching. */
    public static final double SLO_HEADROOM = 4;

    private static final String PROBE_PREFIX = "probe-";

    private LocalRig() {}

    /** Whether a request id is a readiness probe's ({@link RunningJob#awaitProbe}). */
    public static boolean isProbe(String requestId) {
        return requestId.startsWith(PROBE_PREFIX);
    }

    /** A model folder and the profile of that model on this machine. */
    public record ModelFiles(Path model, Path profile) {}

    /**
     * Makes (or reuses) {@code dir/model-ARCH-SIZE} with seed 42 and its TP-1 CPU profile {@code dir/profile-ARCH-SIZE.json}.
     *
     * @param jitWarmUpMs the profiler's untimed warm-up (ProfileGrid.jitWarmUpMs; 15 s makes the prefill's fast code arrive)
     * @param fitTo       when not null, the profile is also fitted to the engine under serving with a bulk of this
     *                    workload's requests ({@link ServingFit}) into {@code dir/profile-ARCH-SIZE-fitted-TASK.json}
     *                    (made again when older than the profile), and that file is the one returned
     */
    public static ModelFiles modelAndProfile(PrintStream out, Path dir, String arch, String size, long jitWarmUpMs,
                                      Workload fitTo) throws Exception {
        return modelAndProfile(out, dir, arch, size, jitWarmUpMs, fitTo, 1);
    }

    /**
     * As {@link #modelAndProfile(PrintStream, Path, String, String, long, Workload)} for a machine split into
     * {@code devices} devices: above one, the profile is {@code profile-ARCH-SIZE-dN.json}, measured with each device's
     * share of the cores ({@link #threadsPerDevice}) at the TP degrees N devices can form, and the fit to serving runs
     * the engine with as many kernel threads.
     */
    public static ModelFiles modelAndProfile(PrintStream out, Path dir, String arch, String size, long jitWarmUpMs,
                                      Workload fitTo, int devices) throws Exception {
        Path model = dir.resolve("model-" + arch + "-" + size);
        String base = "profile-" + arch + "-" + size + (devices > 1 ? "-d" + devices : "");
        Path profile = dir.resolve(base + ".json");
        out.printf("  model %s%n", model);
        if (!Files.exists(model.resolve("model.safetensors"))) {
            ModelConfig config = ModelSize.parse(size).config(Architecture.parse(arch));
            long bytes = CheckpointWriter.write(model, config, RandomWeights.generate(config, 42), DType.F32);
            out.printf("  made %s %s with seed 42: model.safetensors %.1f MiB%n", arch, size, bytes / 1048576.0);
        }
        out.printf("  profile %s%n", profile);
        if (!Files.exists(profile)) {
            ProfileGrid d = ProfileGrid.DEFAULTS;
            List<Integer> degrees = new ArrayList<>();
            for (int tp = 1; tp <= devices; tp *= 2) degrees.add(tp);
            ProfileGrid grid = new ProfileGrid(degrees, d.encodeBatchSizes(), d.encodeSeqLengths(), d.maxEncodeTokens(),
                    d.decodeBatchSizes(), d.decodeContextLengths(), 1, 3, jitWarmUpMs, devices > 1 ? threadsPerDevice(devices) : 0);
            long t0 = System.nanoTime();
            out.printf("  profiling %s on %d device(s) (made once; a progress line every 10 s)%n", model.getFileName(), devices);
            XProfiler.write(new XProfiler(model, grid, new PrintStream(OutputStream.nullOutputStream()), out).run(), profile);
            out.printf("  profiled in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        }
        if (fitTo == null) return new ModelFiles(model, profile);
        Path fitted = dir.resolve(base + "-fitted-" + fitTo.name().replaceAll("[^A-Za-z0-9._-]", "_") + ".json");
        if (!Files.exists(fitted) || Files.getLastModifiedTime(fitted).compareTo(Files.getLastModifiedTime(profile)) < 0) {
            try {
                fitToServing(out, model, profile, fitted, fitTo, devices, jitWarmUpMs);
            } catch (IllegalStateException | IllegalArgumentException e) {
                out.printf("  no fit to serving (%s): planning from the profile as measured%n", e.getMessage());
                return new ModelFiles(model, profile);
            }
        } else {
            String name = ProfileCodec.readProfile(fitted).getDeviceName();
            out.printf("  %s (%s)%n", fitted, name.substring(Math.max(0, name.indexOf(ServingFit.NOTE_PREFIX))));
        }
        return new ModelFiles(model, fitted);
    }

    /** Requests of the fitting run, and its schedule (a STATIC batch has long runs of plain decode iterations). */
    public static final int FIT_REQUESTS = 48;
    public static final String FIT_SCHEDULE = "static:8";

    /**
     * {@link ServingFit}: the profile fitted to the engine under a bulk of the workload's requests, written to
     * {@code fitted}. On {@code devices} devices the machine's devices run at once, one engine each with its share of
     * the cores, each fitted on requests of its own seed, and the factors are their mean: a CPU device shares the
     * memory system and the caches with the others, and one measured alone, its neighbour idle, looks faster than any
     * of them is while a job keeps them all busy.
     */
    private static void fitToServing(PrintStream out, Path model, Path profile, Path fitted, Workload workload, int devices,
                                     long jitWarmUpMs) throws Exception {
        Profile p = ProfileCodec.readProfile(profile);
        long t0 = System.nanoTime();
        EngineConfig config = devices > 1 ? EngineConfig.DEFAULTS.withThreadsPerDevice(threadsPerDevice(devices)) : EngineConfig.DEFAULTS;
        List<Engine> engines = new ArrayList<>();
        try {
            for (int i = 0; i < devices; i++) engines.add(Engine.load(model, config));
            List<java.util.concurrent.CompletableFuture<ServingFit.Factors>> runs = new ArrayList<>();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(devices);
            try {
                for (int i = 0; i < devices; i++) {
                    Engine engine = engines.get(i);
                    long seed = 1 + i;
                    runs.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        try {
                            FidelityRun run = new FidelityRun(engine, new PrintStream(OutputStream.nullOutputStream()));
                            // As long as the profiler warmed up: after 5 s, opt-small's wmt prompts still ran the
                            // prefill's early code, and the fit scaled the encode entries x3.00 (its clamp).
                            run.warmUp(jitWarmUpMs);
                            return ServingFit.measure(run, ProfileCodec.toTable(p), workload, FIT_SCHEDULE, FIT_REQUESTS, seed);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException("interrupted while fitting to serving", e);
                        }
                    }, pool));
                }
                double encode = 0, decode = 0;
                ServingFit.Factors first = null;
                for (java.util.concurrent.CompletableFuture<ServingFit.Factors> r : runs) {
                    ServingFit.Factors f;
                    try {
                        f = r.join();
                    } catch (java.util.concurrent.CompletionException e) {
                        throw e.getCause() instanceof Exception x ? x : e;
                    }
                    if (first == null) first = f;
                    encode += f.encode() / devices;
                    decode += f.decode() / devices;
                }
                String note = devices == 1 ? first.note() : String.format(java.util.Locale.ROOT,
                        ServingFit.NOTE_PREFIX + ": encode x%.2f, decode x%.2f (the mean of %d devices fitted at once, %d requests of"
                                + " task %s each under %s)", encode, decode, devices, FIT_REQUESTS, workload.name(), FIT_SCHEDULE);
                Files.writeString(fitted, ProfileCodec.toJson(ProfileScaling.scaled(p, encode, decode, note)));
                out.printf("  %s: %s, in %.0f s%n", fitted, note, (System.nanoTime() - t0) / 1e9);
            } finally {
                pool.shutdownNow();
            }
        } finally {
            for (Engine e : engines) e.close();
        }
    }

    /**
     * {@link #SLO_HEADROOM} times the latency of the fastest schedule of {@code policies} for a bound-length request,
     * rounded up to 100 ms.
     */
    public static long autoSloMs(PrintStream out, XScheduler scheduler, String task, List<Policy> policies) {
        Estimate fastest = scheduler.plan(Double.POSITIVE_INFINITY, policies).fastest();
        if (fastest == null) {
            throw new IllegalArgumentException("no schedule fits this machine for task " + task);
        }
        long slo = roundedSloMs(fastest.latencyMs());
        out.printf("  fastest schedule reaches %.0f ms for a p99-length output; SLO set to %.0fx that: %d ms%n",
                fastest.latencyMs(), SLO_HEADROOM, slo);
        return slo;
    }


    private static long roundedSloMs(double fastestMs) {
        return (long) Math.ceil(SLO_HEADROOM * fastestMs / 100.0) * 100;
    }

    /** The machine's cores: the CPU backend's devices are worker threads that share them. */
    public static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** Kernel threads of each of {@code devices} devices: its share of the cores, at least one. */
    public static int threadsPerDevice(int devices) {
        return Math.max(1, cores() / devices);
    }

    /**
     * What the planner searches on {@code devices} devices: RRA alone on one (WAA needs an encoder and a decoder group),
     * RRA (pipelines, partial TP), WAA-C and WAA-M on two or more.
     */
    public static List<Policy> policiesFor(int devices) {
        return devices == 1 ? List.of(Policy.RRA) : List.of(Policy.RRA, Policy.WAA_C, Policy.WAA_M);
    }

    /** The device counts worth planning for here: one device with every core, and one device per core. */
    public static List<Integer> deviceCounts() {
        return cores() == 1 ? List.of(1) : List.of(1, cores());
    }

    /**
     * The device count to run on, of {@code choices}: with one choice, that one; otherwise each is profiled (made once
     * under {@code dir}) and planned over {@link #policiesFor} at the same bound ({@code sloMs}, or, when NaN,
     * {@link #SLO_HEADROOM} times the fastest latency any of them reaches); both plans are printed and the one that
     * serves more requests/s is taken (the fewer devices on a tie, or when none meets the bound).
     */
    public static int chooseDevices(PrintStream out, List<Integer> choices, Path dir, String arch, String size, long jitWarmUpMs,
                                    Workload workload, double sloMs) throws Exception {
        return chooseDevices(out, choices, dir, arch, size, jitWarmUpMs, workload, sloMs, null);
    }

    /** The same, each device count's profile fitted to serving with a bulk of {@code fitTo}'s requests when not null. */
    public static int chooseDevices(PrintStream out, List<Integer> choices, Path dir, String arch, String size, long jitWarmUpMs,
                                    Workload workload, double sloMs, Workload fitTo) throws Exception {
        if (choices.size() == 1) {
            return choices.get(0);
        }
        Map<Integer, XScheduler> schedulers = new java.util.LinkedHashMap<>();
        double fastestMs = Double.POSITIVE_INFINITY;
        for (int n : choices) {
            ModelFiles f = modelAndProfile(out, dir, arch, size, jitWarmUpMs, fitTo, n);
            XScheduler s = new XScheduler(new XSimulator(scenario(f.profile(), n, workload)));
            schedulers.put(n, s);
            Estimate fastest = s.plan(Double.POSITIVE_INFINITY, policiesFor(n)).fastest();
            if (fastest != null) fastestMs = Math.min(fastestMs, fastest.latencyMs());
        }
        double slo = !Double.isNaN(sloMs) ? sloMs : Double.isInfinite(fastestMs) ? Double.POSITIVE_INFINITY : roundedSloMs(fastestMs);
        int chosen = choices.get(0);
        double best = 0;
        for (Map.Entry<Integer, XScheduler> e : schedulers.entrySet()) {
            int n = e.getKey();
            dev.exegpt.scheduler.search.Plan plan = e.getValue().plan(slo, policiesFor(n));
            String what = plan.feasible()
                    ? String.format(java.util.Locale.ROOT, "%s, %.2f requests/s", plan.best().candidate().describe(),
                            plan.best().sequencesPerSecond())
                    : "no schedule meets it";
            out.printf("  %d device(s) of %d kernel thread(s), SLO %.0f ms: %s%n", n, n == 1 ? cores() : threadsPerDevice(n), slo, what);
            if (plan.feasible() && plan.best().sequencesPerSecond() > best * 1.0001) {
                best = plan.best().sequencesPerSecond();
                chosen = n;
            }
        }
        out.printf("  --devices auto: %d device(s)%n", chosen);
        return chosen;
    }

    /**
     * The scenario of a profile replicated into {@code devices} devices (a CPU's worker threads) for a workload: the
     * links of the device the profile names (A100 otherwise), Little's-law batches.
     */
    public static Scenario scenario(Path profile, int devices, Workload workload) {
        ProfileTable table = ProfileCodec.read(profile);
        DeviceSpec device = DeviceSpec.forDeviceName(table.deviceName());
        return new Scenario(new ProfiledCostModel(table, device), devices, device.devicesPerNode(), workload, SimOptions.DEFAULTS);
    }

    /**
     * The device groups a schedule's executors run, as a result's executedLayout names them: "RRA[1, 1]" for one group
     * of two single-device stages, "enc RRA[1] + dec RRA[1]" for WAA's encoder and decoder groups.
     */
    public static String plannedLayout(Schedule s) {
        if (!Policies.splitsEncodeAndDecode(s)) {
            return "RRA" + java.util.Arrays.toString(Policies.stageDegrees(s, Role.FULL));
        }
        return "enc RRA" + java.util.Arrays.toString(Policies.stageDegrees(s, Role.ENCODER)) + " + dec RRA"
                + java.util.Arrays.toString(Policies.stageDegrees(s, Role.DECODER));
    }

    /**
     * {@code flink-conf} in the working directory or the nearest parent that has one (a test runs in {@code job/}),
     * else the relative name, which {@link ExegptJob#flinkConfiguration} resolves against EXEGPT_HOME.
     */
    public static Path flinkConfDir() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("flink-conf").resolve("config.yaml"))) {
                return dir.resolve("flink-conf");
            }
        }
        return Path.of("flink-conf");
    }

    /** Deletes and re-creates a folder (the broker's data of an earlier run). */
    public static Path freshDir(Path path) throws java.io.IOException {
        if (Files.exists(path)) {
            try (var files = Files.walk(path)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        return Files.createDirectories(path);
    }

    /**
     * The streaming job on the embedded MiniCluster, reading and writing topics suffixed with its label, and one
     * consumer of its results. Closing cancels the job.
     */
    public static final class RunningJob implements AutoCloseable {
        private final String bootstrap;
        private final String task;
        private final String requestsTopic;
        private final String resultsTopic;
        private final String schedulesTopic;
        private final String deadLetterTopic;
        private final String stepsTopic;
        private final JobClient job;
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final KafkaProducer<byte[], byte[]> producer;
        private final AvroBinary<InferenceResult> results = new AvroBinary<>(InferenceResult.getClassSchema());
        private final AvroBinary<InferenceRequest> requests = new AvroBinary<>(InferenceRequest.getClassSchema());
        private final AvroBinary<Schedule> schedules = new AvroBinary<>(Schedule.getClassSchema());
        private final AvroBinary<DeadLetter> deadLetters = new AvroBinary<>(DeadLetter.getClassSchema());
        private final java.util.Map<Integer, Schedule> decided = new java.util.TreeMap<>();
        private final AvroBinary<ExecutorSteps> stepRecords = new AvroBinary<>(ExecutorSteps.getClassSchema());
        private final List<ExecutorSteps> steps = new ArrayList<>();

        private RunningJob(String bootstrap, String task, List<String> topics, JobClient job) {
            this.bootstrap = bootstrap;
            this.task = task;
            this.requestsTopic = topics.get(0);
            this.resultsTopic = topics.get(1);
            this.schedulesTopic = topics.get(4);
            this.deadLetterTopic = topics.get(2);
            this.stepsTopic = topics.get(5);
            this.job = job;
            this.consumer = new KafkaConsumer<>(KafkaClients.consumer(bootstrap, "exegpt-rig-" + resultsTopic));
            this.consumer.subscribe(List.of(resultsTopic, deadLetterTopic, schedulesTopic, stepsTopic));
            this.producer = new KafkaProducer<>(KafkaClients.producer(bootstrap, "exegpt-rig-" + requestsTopic));
        }

        /**
         * Creates the label's topics and starts the job with {@code scheduleFile}, every request of {@code task}
         * under an end-to-end SLO of {@code sloMs}.
         *
         * @param extra further job settings (flink-conf/exegpt.properties keys)
         */
        public static RunningJob start(LocalKafkaBroker broker, Path model, Path scheduleFile, String task, long sloMs, String label,
                                Map<String, String> extra) throws Exception {
            List<String> topics = List.of(Topics.REQUESTS + "." + label, Topics.RESULTS + "." + label,
                    Topics.DEAD_LETTER + "." + label, Topics.AUDIT + "." + label, Topics.SCHEDULES + "." + label,
                    Topics.STEPS + "." + label);
            try (Admin admin = broker.admin()) {
                Topics.create(admin, topics, Topics.DEFAULT_PARTITIONS);
            }
            Map<String, String> settings = new java.util.HashMap<>(Map.ofEntries(
                    Map.entry("kafka.bootstrap", broker.bootstrapServers()),
                    Map.entry("kafka.group.id", "exegpt-" + label),
                    Map.entry("topic.requests", topics.get(0)),
                    Map.entry("topic.results", topics.get(1)),
                    Map.entry("topic.deadletter", topics.get(2)),
                    Map.entry("topic.audit", topics.get(3)),
                    Map.entry("topic.schedules", topics.get(4)),
                    Map.entry("topic.steps", topics.get(5)),
                    Map.entry("model.dir", model.toString()),
                    Map.entry("model.backend", "cpu"),
                    Map.entry("schedule.file", scheduleFile.toString()),
                    Map.entry("task.slo.ms." + task, Long.toString(sloMs)),
                    Map.entry("audit.window.ms", "5000")));
            settings.putAll(extra);
            JobConfig config = JobConfig.load(null, settings);
            org.apache.flink.configuration.Configuration flink = ExegptJob.flinkConfiguration(flinkConfDir());
            // Checkpoints on disk: a WAA job's in-flight hand-overs carry encoded state (megabytes) that the JobManager's
            // memory storage (5 MiB a checkpoint) refuses, and a failed checkpoint holds back every exactly-once result.
            Path checkpoints = freshDir(model.toAbsolutePath().getParent().resolve("checkpoints-" + label));
            flink.setString("execution.checkpointing.dir", checkpoints.toUri().toString());
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, flink);
            ExegptJob.addStreamingJob(env, config, ExegptJob.settings(config));
            JobClient job = env.executeAsync("exegpt " + label);
            return new RunningJob(broker.bootstrapServers(), task, topics, job);
        }

        public String bootstrap() {
            return bootstrap;
        }

        public String requestsTopic() {
            return requestsTopic;
        }

        /**
         * Sends one-token probe requests until one is answered by the schedule version {@code minVersion} or newer
         * (0: any), so that the measured requests neither queue behind the job's start and the engines' warm-up nor
         * run under the previous schedule. Returns the seconds it took.
         */
        public double awaitProbe(int minVersion, long timeoutMs) throws Exception {
            long t0 = System.nanoTime();
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (System.currentTimeMillis() < deadline) {
                InferenceRequest probe = InferenceRequest.newBuilder().setRequestId(PROBE_PREFIX + UUID.randomUUID()).setTask(task)
                        .setPromptText("ready?").setMaxNewTokens(1).build();
                send(probe);
                List<InferenceResult> answer = collect(id -> id.equals(probe.getRequestId()), 1,
                        Math.max(1, deadline - System.currentTimeMillis()), null);
                if (!answer.isEmpty() && answer.get(0).getScheduleVersion() >= minVersion) {
                    return (System.nanoTime() - t0) / 1e9;
                }
            }
            throw new IllegalStateException("the job did not answer a probe request under schedule version " + minVersion + " within "
                    + timeoutMs / 1000 + " s");
        }

        /** Publishes a schedule on the job's schedules topic; the job adopts it at the next step boundary if its version is newer. */
        public void publish(Schedule schedule) throws Exception {
            producer.send(new ProducerRecord<>(schedulesTopic, schedule.getScheduleId().getBytes(StandardCharsets.UTF_8),
                    schedules.encode(schedule))).get();
        }

        private void send(InferenceRequest request) throws Exception {
            producer.send(new ProducerRecord<>(requestsTopic, request.getRequestId().getBytes(StandardCharsets.UTF_8),
                    requests.encode(request))).get();
        }

        /**
         * Reads results until {@code count} of them have a request id {@code wanted} accepts or the time is up; the others (late probes)
         * are dropped. A dead letter of a wanted request id ends the wait with an IllegalStateException giving its reason.
         * Prints progress every 5 s when {@code out} is given.
         */
        public List<InferenceResult> collect(Predicate<String> wanted, int count, long timeoutMs, PrintStream out)
                throws java.io.IOException {
            List<InferenceResult> found = new ArrayList<>();
            long deadline = System.currentTimeMillis() + timeoutMs;
            long lastProgress = System.nanoTime();
            while (found.size() < count && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.topic().equals(schedulesTopic)) {
                        Schedule s = schedules.decode(record.value());
                        String reason = s.getNotes().get("control.reason");
                        if (reason != null && decided.putIfAbsent(s.getVersion(), s) == null && out != null) {
                            out.printf("  control loop: schedule v%d %s: %s (fit %s; planned in %s ms, %s ms of it on the CPU)%n",
                                    s.getVersion(), s.getNotes().getOrDefault("schedule", describe(s)), reason,
                                    s.getNotes().get("control.fit"), s.getNotes().get("control.planMs"),
                                    s.getNotes().getOrDefault("control.planCpuMs", "?"));
                        }
                        continue;
                    }
                    if (record.topic().equals(stepsTopic)) {
                        try {
                            steps.add(stepRecords.decode(record.value()));
                        } catch (java.io.IOException e) {
                            // the executors' steps are best effort: one that does not decode is left out
                        }
                        continue;
                    }
                    if (record.topic().equals(deadLetterTopic)) {
                        DeadLetter d = deadLetters.decode(record.value());
                        String id = d.getRequestId() == null ? "" : d.getRequestId();
                        if (wanted.test(id)) {
                            throw new IllegalStateException("request " + id + " was dead-lettered at " + d.getStage() + ": " + d.getReason());
                        }
                        continue;
                    }
                    InferenceResult r = results.decode(record.value());
                    if (wanted.test(r.getRequestId())) {
                        found.add(r);
                    }
                }
                if (out != null && System.nanoTime() - lastProgress > 5_000_000_000L) {
                    lastProgress = System.nanoTime();
                    out.printf("  %d/%d results%n", found.size(), count);
                }
            }
            return found;
        }

        /** The engine steps the executors published on the steps topic (with the control loop on), as read so far. */
        public List<ExecutorSteps> executorSteps() {
            return List.copyOf(steps);
        }

        /** The schedules the job's control loop decided, in version order, as seen on the schedules topic so far. */
        public List<Schedule> controlDecisions() {
            return List.copyOf(decided.values());
        }

        private static String describe(Schedule s) {
            return String.format(java.util.Locale.ROOT, "%s B_E=%d N_D=%d B_D=%d", s.getPolicy(), s.getEncodeBatchSize(),
                    s.getDecodeIterationsPerEncode(), s.getDecodeBatchSize());
        }

        @Override
        public void close() throws Exception {
            try {
                consumer.close();
                producer.close();
            } finally {
                job.cancel().get();
            }
        }
    }
}
