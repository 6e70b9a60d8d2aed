package dev.exegpt.operators.flink;

import java.nio.file.Path;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import dev.exegpt.operators.core.Results;
import dev.exegpt.operators.runner.ExecutorRunner;
import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.DeviceLayout;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * One executor (device group) as a Flink async function (DESIGN.md §6): each subtask owns an engine and an
 * {@link ExecutorRunner} on its own thread; a request's future completes when the request finishes, so the
 * operator's capacity bounds the requests in flight and backpressure reaches Kafka. In-flight requests are part of
 * the checkpoint and are replayed after a recovery; results are keyed by request id and name their attempt.
 */
public class ExecutorFunction extends RichAsyncFunction<DispatchedRequest, InferenceResult> {

    private static final long serialVersionUID = 1L;

    private final ExecutorSpec spec;
    private final Schedule initial;
    private transient Engine engine;
    private transient ExecutorRunner runner;

    public ExecutorFunction(ExecutorSpec spec, Schedule initial) {
        this.spec = spec;
        this.initial = initial;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        TaskInfo task = getRuntimeContext().getTaskInfo();
        EngineConfig config = EngineConfig.DEFAULTS
                .withLayout(layoutOf(initial))
                .withThreadsPerDevice(spec.threadsPerDevice() > 0 ? spec.threadsPerDevice()
                        : Math.max(1, Runtime.getRuntime().availableProcessors() / task.getNumberOfParallelSubtasks()
                                / Math.max(1, initial.getNumDevices())))
                .withKvCacheCapacityBytes(spec.kvCacheCapacityBytes());
        config = new EngineConfig(Backend.parse(spec.backend()), config.layout(), config.threadsPerDevice(),
                config.kvCacheCapacityBytes(), config.numMicroBatches(), false, false);
        engine = Engine.load(Path.of(spec.modelDir()), config);
        String executorId = initial.getPolicy().name().toLowerCase().replace('_', '-') + "-" + task.getIndexOfThisSubtask();
        runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()), initial, executorId,
                task.getAttemptNumber() + 1);
        getRuntimeContext().getMetricGroup().gauge("requestsInFlight", (Gauge<Integer>) runner::numInFlight);
        getRuntimeContext().getMetricGroup().gauge("kvCacheBytesInUse", (Gauge<Long>) engine::stateBytesInUse);
    }

    @Override
    public void asyncInvoke(DispatchedRequest dispatched, ResultFuture<InferenceResult> future) {
        if (runner.failure() != null) {
            future.completeExceptionally(new IllegalStateException("executor engine failed", runner.failure()));
            return;
        }
        runner.adopt(dispatched.schedule());
        runner.submit(dispatched.request(), result -> future.complete(List.of(result)));
    }

    @Override
    public void timeout(DispatchedRequest dispatched, ResultFuture<InferenceResult> future) {
        // Answer instead of failing the job: a request stuck this long is reported, not retried forever.
        Schedule s = runner.schedule();
        future.complete(List.of(Results.unfinished(dispatched.request(), System.currentTimeMillis(), FinishReason.ERROR,
                "not answered within " + spec.requestTimeoutMs() + " ms", new Results.Provenance(s.getScheduleId(),
                        s.getVersion(), "timeout", getRuntimeContext().getTaskInfo().getAttemptNumber() + 1))));
    }

    @Override
    public void close() {
        if (runner != null) {
            runner.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    /** The device group's pipeline: numTpDevices / tpDegree stages of the TP degree, the other devices single. */
    static DeviceLayout layoutOf(Schedule s) {
        int numDevices = Math.max(1, s.getNumDevices());
        int tp = Math.max(1, s.getTpDegree());
        int numTpStages = Math.min(numDevices, Math.max(0, s.getNumTpDevices())) / tp;
        int numSingle = numDevices - numTpStages * tp;
        int[] degrees = new int[numTpStages + numSingle];
        for (int i = 0; i < degrees.length; i++) {
            degrees[i] = i < numTpStages ? tp : 1;
        }
        return DeviceLayout.rra(degrees);
    }
}
