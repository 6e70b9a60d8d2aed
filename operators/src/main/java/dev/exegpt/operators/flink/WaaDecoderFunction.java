package dev.exegpt.operators.flink;

import java.util.List;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import dev.exegpt.operators.core.Results;
import dev.exegpt.operators.runner.ExecutorRunner;
import dev.exegpt.operators.runner.Handover;
import dev.exegpt.operators.runner.Role;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * A WAA decoder group (PAPER.md §5.2): imports handed-over states into its decode batch between iterations and
 * completes each request's future with its result.
 */
public class WaaDecoderFunction extends RichAsyncFunction<Handover, InferenceResult> {

    private static final long serialVersionUID = 1L;

    private final ExecutorSpec spec;
    private final Schedule initial;
    private transient Engine engine;
    private transient ExecutorRunner runner;
    private transient ExecutorMetrics metrics;

    public WaaDecoderFunction(ExecutorSpec spec, Schedule initial) {
        this.spec = spec;
        this.initial = initial;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        TaskInfo task = getRuntimeContext().getTaskInfo();
        engine = ExecutorEngines.open(spec, initial, task, 2);
        runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()), initial, Role.DECODER,
                ExecutorEngines.executorId(initial, "-dec", task), task.getAttemptNumber() + 1);
        getRuntimeContext().getMetricGroup().gauge("requestsInFlight", (Gauge<Integer>) runner::numInFlight);
        metrics = new ExecutorMetrics(getRuntimeContext().getMetricGroup());
        getRuntimeContext().getMetricGroup().gauge("kvCacheBytesInUse", (Gauge<Long>) engine::stateBytesInUse);
    }

    @Override
    public void asyncInvoke(Handover handover, ResultFuture<InferenceResult> future) {
        if (runner.failure() != null) {
            future.completeExceptionally(new IllegalStateException("decoder engine failed", runner.failure()));
            return;
        }
        runner.submit(handover, result -> {
            metrics.record(result);
            future.complete(List.of(result));
        });
    }

    @Override
    public void timeout(Handover handover, ResultFuture<InferenceResult> future) {
        Schedule s = runner.schedule();
        future.complete(List.of(Results.unfinished(handover.request(), System.currentTimeMillis(), FinishReason.ERROR,
                "not decoded within " + spec.requestTimeoutMs() + " ms", new Results.Provenance(s.getScheduleId(),
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
