package dev.exegpt.operators.flink;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import dev.exegpt.operators.core.Results;
import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.operators.runner.EngineStep;
import dev.exegpt.operators.runner.EngineStepCsv;
import dev.exegpt.operators.runner.ExecutorRunner;
import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * An executor (device group) as a Flink async function (DESIGN.md §6): each subtask owns an engine and an
 * {@link ExecutorRunner} on its own thread, built in {@code open} and released in {@code close}; a request's future
 * completes when the runner answers, so the operator's capacity bounds the requests in flight and backpressure
 * reaches Kafka. In-flight requests are part of the checkpoint and are replayed after a recovery; results are keyed
 * by request id and name their attempt. Subclasses say what goes in and out.
 */
abstract class EngineAsyncFunction<IN, OUT> extends RichAsyncFunction<IN, OUT> implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EngineAsyncFunction.class);

    protected final ExecutorSpec spec;
    protected final Schedule initial;
    private final Role role;
    private transient Engine engine;
    protected transient ExecutorRunner runner;
    protected transient ExecutorMetrics metrics;
    private transient java.io.PrintWriter stepLog;
    private transient StepPublisher stepPublisher;
    private transient int attempt;
    private transient String backlogKey;
    private transient DecoderBacklogs.Decoder decoderView;
    private transient ListState<Integer> attemptState;

    EngineAsyncFunction(ExecutorSpec spec, Schedule initial, Role role) {
        this.spec = spec;
        this.initial = initial;
        this.role = role;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        TaskInfo task = getRuntimeContext().getTaskInfo();
        List<String> gpus = new ArrayList<>();
        for (ExternalResourceInfo gpu : getRuntimeContext().getExternalResourceInfos("gpu")) {
            gpu.getProperty("index").ifPresent(gpus::add);
        }
        engine = ExecutorEngines.open(spec, initial, task, role, gpus);
        if (spec.warmUpMs() > 0) {
            long t0 = System.nanoTime();
            int n = engine.warmUp(spec.warmUpMs());
            LOG.info("{} engine warmed up with {} requests in {} ms", role, n, (System.nanoTime() - t0) / 1_000_000);
        }
        String side = switch (role) {
            case FULL -> "";
            case ENCODER -> "-enc";
            case DECODER -> "-dec";
        };
        runner = new ExecutorRunner(engine, BpeTokenizer.load(java.nio.file.Path.of(spec.modelDir())), initial, role,
                ExecutorEngines.executorId(initial, side, task), attempt(), spec.admission());
        java.util.function.Consumer<EngineStep> observers = step -> {};
        String executorId = ExecutorEngines.executorId(initial, side, task);
        if (!spec.stepLogDir().isEmpty()) {
            java.nio.file.Path file = java.nio.file.Files.createDirectories(java.nio.file.Path.of(spec.stepLogDir()))
                    .resolve("steps-" + executorId + "-attempt" + attempt() + ".csv");
            stepLog = new java.io.PrintWriter(java.nio.file.Files.newBufferedWriter(file), true);
            stepLog.println(EngineStepCsv.layoutLine(engine.engineConfig().layout().toString()));
            stepLog.println(EngineStepCsv.HEADER);
            java.io.PrintWriter log = stepLog;
            observers = observers.andThen(step -> log.println(EngineStepCsv.line(step)));     // the engine thread; flushed per line
            LOG.info("{} engine steps to {}", role, file);
        }
        if (spec.steps() != null) {
            stepPublisher = new StepPublisher(spec.steps(), executorId, role.name(), engine.engineConfig().layout().toString(),
                    attempt(), runner::schedule);
            observers = observers.andThen(stepPublisher);
            LOG.info("{} engine steps published to {}", role, spec.steps().topic());
        }
        if (!spec.stepLogDir().isEmpty() || spec.steps() != null) {
            runner.observeSteps(observers);
        }
        getRuntimeContext().getMetricGroup().gauge("requestsInFlight", (Gauge<Integer>) runner::numInFlight);
        getRuntimeContext().getMetricGroup().gauge("requestsRefusedByAdmission", (Gauge<Long>) runner::numRefusedByAdmission);
        getRuntimeContext().getMetricGroup().gauge("kvCacheBytesInUse", (Gauge<Long>) engine::stateBytesInUse);
        metrics = new ExecutorMetrics(getRuntimeContext().getMetricGroup(), runner::numWaiting);
        backlogKey = DecoderBacklogs.key(getRuntimeContext().getJobInfo().getJobId().toString(), task.getIndexOfThisSubtask());
        if (role == Role.DECODER) {
            decoderView = new DecoderBacklogs.Decoder(runner::numBacklog, runner::decodeForecast);
            DecoderBacklogs.register(backlogKey, decoderView);
        } else if (role == Role.ENCODER) {
            String key = backlogKey;
            runner.observeDecoderBacklog(() -> DecoderBacklogs.backlogOf(key));
            runner.observeDecoderForecast(() -> DecoderBacklogs.forecastOf(key));
        }
    }

    /** Fails the request (and so the task, which restarts) if the engine thread died; true if it did. */
    protected boolean failedEngine(ResultFuture<OUT> future) {
        if (runner.failure() == null) {
            return false;
        }
        future.completeExceptionally(new IllegalStateException("executor engine failed", runner.failure()));
        return true;
    }

    /** The answer to a request stuck past the timeout: reported, not retried forever, and the job goes on. */
    protected InferenceResult timedOut(ValidRequest request, String stage) {
        Schedule s = runner.schedule();
        return Results.unfinished(request, System.currentTimeMillis(), FinishReason.ERROR,
                "not " + stage + " within " + spec.requestTimeoutMs() + " ms",
                new Results.Provenance(s.getScheduleId(), s.getVersion(), "timeout", attempt()));
    }

    private int attempt() {
        return attempt;
    }

    /**
     * The attempt counts every restart, of the task (Flink's attempt number) and of the whole job from a retained
     * checkpoint (a new job, whose task attempts start at 0 again): a restored executor runs one attempt past the one
     * its checkpoint was taken in.
     */
    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        attemptState = context.getOperatorStateStore().getUnionListState(new ListStateDescriptor<>("attempt", Types.INT));
        int taskAttempt = getRuntimeContext().getTaskInfo().getAttemptNumber() + 1;
        int restored = 0;
        for (Integer a : attemptState.get()) {
            restored = Math.max(restored, a);
        }
        attempt = context.isRestored() ? Math.max(restored + 1, taskAttempt) : taskAttempt;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        attemptState.update(List.of(attempt));
    }

    @Override
    public void close() {
        if (decoderView != null) {
            DecoderBacklogs.unregister(backlogKey, decoderView);
        }
        if (runner != null) {
            runner.close();
        }
        if (stepLog != null) {
            stepLog.close();
        }
        if (stepPublisher != null) {
            stepPublisher.close();
        }
        if (engine != null) {
            engine.close();
        }
    }
}
