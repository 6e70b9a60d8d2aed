package dev.exegpt.operators.flink;

import java.util.List;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import dev.exegpt.operators.core.Results;
import dev.exegpt.operators.runner.ExecutorRunner;
import dev.exegpt.operators.runner.Role;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.Schedule;

/**
 * A WAA encoder group (PAPER.md §5): encodes batches under WAA's encoder-side policy and completes each request's
 * future with its hand-over (the exported state), which Flink's network carries to the decoder group.
 */
public class WaaEncoderFunction extends RichAsyncFunction<DispatchedRequest, EncoderOutput> {

    private static final long serialVersionUID = 1L;

    private final ExecutorSpec spec;
    private final Schedule initial;
    private transient Engine engine;
    private transient ExecutorRunner runner;
    private transient ExecutorMetrics metrics;

    public WaaEncoderFunction(ExecutorSpec spec, Schedule initial) {
        this.spec = spec;
        this.initial = initial;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        TaskInfo task = getRuntimeContext().getTaskInfo();
        engine = ExecutorEngines.open(spec, initial, task, 2);
        runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()), initial, Role.ENCODER,
                ExecutorEngines.executorId(initial, "-enc", task), task.getAttemptNumber() + 1);
        getRuntimeContext().getMetricGroup().gauge("requestsInFlight", (Gauge<Integer>) runner::numInFlight);
        metrics = new ExecutorMetrics(getRuntimeContext().getMetricGroup());
    }

    @Override
    public void asyncInvoke(DispatchedRequest dispatched, ResultFuture<EncoderOutput> future) {
        if (runner.failure() != null) {
            future.completeExceptionally(new IllegalStateException("encoder engine failed", runner.failure()));
            return;
        }
        runner.adopt(dispatched.schedule());
        int replica = dispatched.replica();
        runner.submit(dispatched.request(),
                result -> {
                    metrics.record(result);
                    future.complete(List.of(new EncoderOutput(result, null, replica)));
                },
                handover -> future.complete(List.of(new EncoderOutput(null, handover, replica))));
    }

    @Override
    public void timeout(DispatchedRequest dispatched, ResultFuture<EncoderOutput> future) {
        Schedule s = runner.schedule();
        future.complete(List.of(new EncoderOutput(Results.unfinished(dispatched.request(), System.currentTimeMillis(),
                FinishReason.ERROR, "not encoded within " + spec.requestTimeoutMs() + " ms", new Results.Provenance(
                        s.getScheduleId(), s.getVersion(), "timeout", getRuntimeContext().getTaskInfo().getAttemptNumber() + 1)),
                null, dispatched.replica())));
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
