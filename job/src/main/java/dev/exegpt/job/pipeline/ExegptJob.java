package dev.exegpt.job.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.exegpt.job.config.JobConfig;
import dev.exegpt.job.kafka.KafkaClients;
import dev.exegpt.job.kafka.Topics;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.operators.core.RequestLimits;
import dev.exegpt.operators.core.ScheduleValidator;
import dev.exegpt.operators.flink.ControlLoopFunction;
import dev.exegpt.operators.flink.ExecutorSpec;
import dev.exegpt.operators.flink.StepTopic;
import dev.exegpt.operators.flink.ValidateRequestFunction;
import dev.exegpt.operators.flink.ValidateScheduleFunction;
import dev.exegpt.operators.runner.Policies;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.control.ControlLoop;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/** Wires the pipeline between Kafka topics (the streaming job) and builds its settings from a {@link JobConfig}. */
public final class ExegptJob {

    private static final Logger LOG = LoggerFactory.getLogger(ExegptJob.class);

    private ExegptJob() {}

    /** Checkpoint interval used when exactly-once is asked for and Flink's configuration enables none, ms. */
    static final long DEFAULT_CHECKPOINT_INTERVAL_MS = 2_000;

    /** Where the REST endpoint (web UI, metrics, job control) listens unless the configuration says otherwise. */
    public static final String DEFAULT_REST_ADDRESS = "127.0.0.1";

    /**
     * Flink's configuration: {@code config.yaml} in {@code confDir}, or in {@code $EXEGPT_HOME/flink-conf} when
     * {@code confDir} is relative and not found (bin/exegpt sets EXEGPT_HOME), else Flink's defaults. Either way the REST
     * endpoint binds to loopback unless {@code rest.bind-address} is set: job control is not offered to the network
     * by default.
     */
    public static Configuration flinkConfiguration(Path confDir) {
        Configuration flink = loadFlinkConfiguration(confDir);
        if (!flink.containsKey(RestOptions.BIND_ADDRESS.key())) {
            flink.set(RestOptions.BIND_ADDRESS, DEFAULT_REST_ADDRESS);
        }
        if (!flink.containsKey(RestOptions.ADDRESS.key())) {
            flink.set(RestOptions.ADDRESS, DEFAULT_REST_ADDRESS);
        }
        return flink;
    }

    private static Configuration loadFlinkConfiguration(Path confDir) {
        Path dir = confDir;
        String home = System.getenv("EXEGPT_HOME");
        if (dir != null && !dir.resolve("config.yaml").toFile().isFile() && !dir.isAbsolute() && home != null) {
            dir = Path.of(home).resolve(dir);
        }
        if (dir != null && dir.resolve("config.yaml").toFile().isFile()) {
            LOG.info("Flink configuration: {}", dir.resolve("config.yaml"));
            return GlobalConfiguration.loadConfiguration(dir.toAbsolutePath().toString());
        }
        LOG.warn("no config.yaml in {}: Flink's defaults apply", confDir);
        return new Configuration();
    }

    /** Adds the Kafka-to-Kafka job to {@code env}; {@code env.execute} or {@code executeAsync} runs it. */
    public static void addStreamingJob(StreamExecutionEnvironment env, JobConfig config, PipelineSettings settings) {
        if (config.exactlyOnce() && !env.getCheckpointConfig().isCheckpointingEnabled()) {
            // Transactional sinks commit on checkpoints: without them no result would ever become visible.
            LOG.info("delivery exactly-once needs checkpoints; none configured, so every {} ms", DEFAULT_CHECKPOINT_INTERVAL_MS);
            env.enableCheckpointing(DEFAULT_CHECKPOINT_INTERVAL_MS);
        }
        JobConfig.Topics topics = config.topics();
        DataStream<RawRecord> raw = env.fromSource(
                KafkaIo.requests(config.bootstrap(), topics.requests(), config.groupId(), config.kafkaClient()),
                WatermarkStrategy.noWatermarks(), "kafka-requests").uid("kafka-requests");
        SingleOutputStreamOperator<Schedule> schedules = env.fromSource(
                        KafkaIo.schedules(config.bootstrap(), topics.schedules(), config.groupId() + "-schedules", config.kafkaClient()),
                        WatermarkStrategy.noWatermarks(), "kafka-schedules").uid("kafka-schedules").setParallelism(1)
                .process(new ValidateScheduleFunction(scheduleLimits(settings), settings.schedule().getVersion()))
                .setParallelism(1).name("validate-schedule").uid("validate-schedule");
        DataStream<InferenceResult> feedback = env.fromSource(
                KafkaIo.resultsFeedback(config.bootstrap(), topics.results(), config.groupId() + "-feedback", config.kafkaClient()),
                WatermarkStrategy.noWatermarks(), "kafka-results-feedback").uid("kafka-results-feedback");
        ExegptPipeline.Streams out = ExegptPipeline.build(raw, schedules, feedback, settings, true);
        String prefix = config.groupId() + "-" + topics.results();
        int resultsMax = sinkLimit(config, topics.results());
        int deadLetterMax = sinkLimit(config, topics.deadLetter());
        int auditMax = sinkLimit(config, topics.audit());
        out.results().sinkTo(KafkaIo.sink(config.bootstrap(), topics.results(), InferenceResult.getClassSchema(),
                        InferenceResult::getRequestId, config.exactlyOnce(), prefix + "-results", config.kafkaClient(),
                        resultsMax, KafkaIo.resultFitter()))
                .name("kafka-results").uid("kafka-results");
        out.deadLetters().union(schedules.getSideOutput(ValidateRequestFunction.DEAD_LETTERS))
                .sinkTo(KafkaIo.sink(config.bootstrap(), topics.deadLetter(), DeadLetter.getClassSchema(),
                        d -> d.getRequestId() == null ? "" : d.getRequestId(), config.exactlyOnce(), prefix + "-deadletter",
                        config.kafkaClient(), deadLetterMax, KafkaIo.deadLetterFitter()))
                .name("kafka-deadletter").uid("kafka-deadletter");
        out.audit().sinkTo(KafkaIo.sink(config.bootstrap(), topics.audit(), AuditWindow.getClassSchema(),
                        a -> a.getTask() + "|" + a.getScheduleId(), config.exactlyOnce(), prefix + "-audit", config.kafkaClient(),
                        auditMax, null))
                .name("kafka-audit").uid("kafka-audit");
        if (settings.control() != null) {
            if (KafkaClients.ensureTopic(config.bootstrap(), topics.steps(), Topics.DEFAULT_PARTITIONS, config.kafkaClient(), 10_000)) {
                addControlLoop(env, config, settings, feedback);
            } else {
                LOG.warn("control loop off: no steps topic {} (create it with 'exegpt kafka create'); the schedule stays as planned",
                        topics.steps());
            }
        }
    }

    /**
     * The control loop: the executors' steps (their own topic) and the results read back go to one planner subtask,
     * whose schedules go to the schedules topic, which the job reads (validates, broadcasts, adopts). Flink has no
     * iterations in the DataStream API: the loop closes through Kafka, and every decision is on the record.
     */
    private static void addControlLoop(StreamExecutionEnvironment env, JobConfig config, PipelineSettings settings,
                                       DataStream<InferenceResult> feedback) {
        JobConfig.Topics topics = config.topics();
        DataStream<RawRecord> steps = env.fromSource(
                        KafkaIo.steps(config.bootstrap(), topics.steps(), config.groupId() + "-control", config.kafkaClient()),
                        WatermarkStrategy.noWatermarks(), "kafka-steps").uid("kafka-steps").setParallelism(1);
        steps.keyBy(r -> 0, Types.INT)
                .connect(feedback.keyBy(r -> 0, Types.INT))
                .process(new ControlLoopFunction(settings.control(), settings.schedule()))
                .setParallelism(1).name("control-loop").uid("control-loop")
                .returns(TypeInformation.of(Schedule.class))
                .sinkTo(KafkaIo.sink(config.bootstrap(), topics.schedules(), Schedule.getClassSchema(), Schedule::getScheduleId,
                        false, config.groupId() + "-control", config.kafkaClient()))
                .setParallelism(1).name("kafka-control-schedules").uid("kafka-control-schedules");
    }

    /** The record size limit of a sink's topic, read from the broker when the job is built, and logged. */
    private static int sinkLimit(JobConfig config, String topic) {
        int limit = KafkaClients.maxRecordBytes(config.bootstrap(), topic, config.kafkaClient(), 10_000);
        LOG.info("sink {}: records up to {} bytes (the topic's max.message.bytes); larger answers are cut to fit and flagged",
                topic, limit);
        return limit;
    }

    /**
     * What a schedule published at run time may ask of this job: its topology (one group, or separate encoder and
     * decoder groups, as started) and batches no larger than the sequences an engine's state capacity can hold.
     */
    static ScheduleValidator.Limits scheduleLimits(PipelineSettings settings) {
        ModelConfig model;
        try {
            model = ModelConfig.read(Path.of(settings.executor().modelDir()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read the model config in " + settings.executor().modelDir(), e);
        }
        long perSequence = Engine.stateBytesFor(model, 1, 1);
        long maxSequences = settings.executor().kvCacheCapacityBytes() / Math.max(1, perSequence);
        return new ScheduleValidator.Limits(Policies.splitsEncodeAndDecode(settings.schedule()),
                (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxSequences)), Engine.chunkedPrefillRefusal(model),
                settings.asyncCapacity());
    }

    /** The pipeline's settings: limits from the model's config, the schedule from a file or the manual settings. */
    public static PipelineSettings settings(JobConfig config) throws IOException {
        ModelConfig model = ModelConfig.read(Path.of(config.modelDir()));
        Set<String> tasks = new HashSet<>(Workloads.names());
        tasks.addAll(config.taskSloLatencyMs().keySet());
        RequestLimits limits = limitsFor(model, tasks);
        Schedule schedule = config.scheduleFile() != null ? ScheduleCodec.read(config.scheduleFile()) : manual(config);
        if (schedule.getNumReplicas() != config.numExecutors()) {
            schedule = Schedule.newBuilder(schedule).setNumReplicas(config.numExecutors()).build();
        }
        String noChunks = Engine.chunkedPrefillRefusal(model);
        if (schedule.getPolicy() == SchedulePolicy.VLLM_V1 && noChunks != null) {   // refused before the job starts, not by a failing task
            throw new IllegalArgumentException("schedule " + schedule.getScheduleId() + ": " + noChunks);
        }
        LOG.info("schedule {} v{}: {} B_E={} B_D={} N_D={} on {} executor(s)", schedule.getScheduleId(), schedule.getVersion(),
                schedule.getPolicy(), schedule.getEncodeBatchSize(), schedule.getDecodeBatchSize(),
                schedule.getDecodeIterationsPerEncode(), config.numExecutors());
        ControlLoopFunction.Spec control = controlSpec(config, schedule);
        StepTopic steps = null;
        if (control != null) {
            Properties producer = new Properties();
            producer.putAll(config.kafkaClient());
            producer.setProperty("bootstrap.servers", config.bootstrap());
            steps = new StepTopic(config.topics().steps(), producer);
        }
        ExecutorSpec executor = new ExecutorSpec(config.modelDir(), config.backend(), config.threadsPerDevice(),
                config.kvCacheMib() << 20, config.requestTimeoutMs(), config.warmUpMs(), config.gpuIndexes(),
                config.admission(), config.stepLogDir(), steps, config.maxInFlight());
        return new PipelineSettings(limits, config.taskSloLatencyMs(), executor, schedule, config.numExecutors(),
                config.auditWindowMs(), config.dedupRememberMs(), control);
    }

    /**
     * The control loop's settings, or null (with a log line that says why) when it does not run: switched off, no
     * profile, or a schedule it cannot plan for.
     */
    static ControlLoopFunction.Spec controlSpec(JobConfig config, Schedule schedule) {
        JobConfig.Control c = config.control();
        if (!c.enabled()) {
            LOG.info("control loop off (control.enabled=false): the schedule stays as planned");
            return null;
        }
        if (c.profile().isEmpty()) {
            LOG.info("control loop off: no control.profile (the profile the schedule was planned on, from 'exegpt profile');"
                    + " the schedule stays as planned");
            return null;
        }
        if (!Files.isRegularFile(Path.of(c.profile()))) {
            throw new IllegalArgumentException("control.profile=" + c.profile() + ": no such file (expected the profile the"
                    + " schedule was planned on, from 'exegpt profile')");
        }
        Long taskSlo = config.taskSloLatencyMs().get(schedule.getTask());
        double slo = taskSlo == null ? Double.NaN : taskSlo;
        java.util.Optional<String> cannot = ControlLoopFunction.cannotControl(schedule, slo);
        if (cannot.isPresent()) {
            LOG.warn("control loop off: {}", cannot.get());
            return null;
        }
        ControlLoop.Settings d = ControlLoop.Settings.DEFAULTS;
        return new ControlLoopFunction.Spec(c.profile(), slo, new ControlLoop.Settings(c.intervalMs(), c.dwellMs(), d.minSteps(),
                d.windowSteps(), d.trim(), d.gainToSwitch(), d.rateWindowMs(), d.driftWindow(), d.maxFactor(), d.missBand()));
    }

    /** What the engine accepts for this model (the engine checks the same limits again). */
    static RequestLimits limitsFor(ModelConfig model, Set<String> tasks) {
        int positions = model.maxPositions();
        boolean decoderOnly = !model.encoderDecoder();
        // Decoder-only: prompt plus all but the last output token must fit the positions; T5: each side separately.
        return new RequestLimits(tasks, model.vocabSize(), positions, decoderOnly ? positions + 1 : 0, positions,
                RequestLimits.DEFAULT_MAX_SLO_LATENCY_MS);
    }

    private static Schedule manual(JobConfig config) {
        JobConfig.ManualSchedule m = config.manualSchedule();
        LOG.warn("no schedule.file configured: running the manual schedule {} (plan one with 'exegpt plan')", m);
        return Schedule.newBuilder()
                .setScheduleId("manual-" + m.policy())
                .setVersion(1)
                .setCreatedEpochMs(System.currentTimeMillis())
                .setPolicy(SchedulePolicy.valueOf(m.policy().toUpperCase()))
                .setModelName(Path.of(config.modelDir()).getFileName().toString())
                .setEncodeBatchSize(m.encodeBatchSize())
                .setDecodeBatchSize(m.decodeBatchSize())
                .setDecodeIterationsPerEncode(m.decodeIterationsPerEncode())
                .setNumReplicas(config.numExecutors())
                .build();
    }
}
