package dev.exegpt.operators.flink;

import java.util.List;
import org.apache.flink.streaming.api.functions.async.ResultFuture;

import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/** One device group running encode and decode (RRA, STATIC, CONTINUOUS). */
public class ExecutorFunction extends EngineAsyncFunction<DispatchedRequest, InferenceResult> {

    private static final long serialVersionUID = 1L;

    public ExecutorFunction(ExecutorSpec spec, Schedule initial) {
        super(spec, initial, Role.FULL);
    }

    @Override
    public void asyncInvoke(DispatchedRequest dispatched, ResultFuture<InferenceResult> future) {
        if (failedEngine(future)) {
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
        future.complete(List.of(timedOut(dispatched.request(), "answered")));
    }
}
