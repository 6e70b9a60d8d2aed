package dev.exegpt.operators.flink;

import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import dev.exegpt.operators.core.Results;
import dev.exegpt.operators.runner.ExecutorRunner;
import dev.exegpt.runtime.engine.Engine;
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
    private transient ExecutorMetrics metrics;

    public ExecutorFunction(ExecutorSpec spec, Schedule initial) {
        this.spec = spec;
        this.initial = initial;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        TaskInfo task = getRuntimeContext().getTaskInfo();
        engine = ExecutorEngines.open(spec, initial, task, 1);
        runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()), initial,
                ExecutorEngines.executorId(initial, "", task), task.getAttemptNumber() + 1);
        getRuntimeContext().getMetricGroup().gauge("requestsInFlight", (Gauge<Integer>) runner::numInFlight);
        metrics = new ExecutorMetrics(getRuntimeContext().getMetricGroup());
        getRuntimeContext().getMetricGroup().gauge("kvCacheBytesInUse", (Gauge<Long>) engine::stateBytesInUse);
    }

    @Override
    public void asyncInvoke(DispatchedRequest dispatched, ResultFuture<InferenceResult> future) {
        if (runner.failure() != null) {
            future.completeExceptionally(new IllegalStateException("executor engine failed", runner.failure()));
            return;
        }
        runner.adopt(dispatched.schedule());
        runner.submit(dispatched.request(), result -> {
            metrics.record(result);
            future.complete(List.of(result));
        });
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
}
