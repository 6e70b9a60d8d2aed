package dev.exegpt.operators.flink;

import java.util.List;
import org.apache.flink.streaming.api.functions.async.ResultFuture;

import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.schemas.Schedule;

/**
 * A WAA encoder group (PAPER.md §5): encodes batches under WAA's encoder-side policy and completes each request's
 * future with its hand-over (the exported state), which Flink's network carries to the decoder group.
 */
public class WaaEncoderFunction extends EngineAsyncFunction<DispatchedRequest, EncoderOutput> {

    private static final long serialVersionUID = 1L;

    public WaaEncoderFunction(ExecutorSpec spec, Schedule initial) {
        super(spec, initial, Role.ENCODER);
    }

    @Override
    public void asyncInvoke(DispatchedRequest dispatched, ResultFuture<EncoderOutput> future) {
        if (failedEngine(future)) {
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
        future.complete(List.of(new EncoderOutput(timedOut(dispatched.request(), "encoded"), null, dispatched.replica())));
    }
}
