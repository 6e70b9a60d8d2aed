package dev.exegpt.operators.flink;

import java.util.List;
import org.apache.flink.streaming.api.functions.async.ResultFuture;

import dev.exegpt.operators.runner.Handover;
import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * A WAA decoder group (PAPER.md §5.2): imports handed-over states into its decode batch between iterations and
 * completes each request's future with its result.
 */
public class WaaDecoderFunction extends EngineAsyncFunction<Handover, InferenceResult> {

    private static final long serialVersionUID = 1L;

    public WaaDecoderFunction(ExecutorSpec spec, Schedule initial) {
        super(spec, initial, Role.DECODER);
    }

    @Override
    public void asyncInvoke(Handover handover, ResultFuture<InferenceResult> future) {
        if (failedEngine(future)) {
            return;
        }
        if (handover.schedule() != null) {
            runner.adopt(handover.schedule());      // what the encoder side adopted, the decoder side adopts
        }
        runner.submit(handover, result -> {
            metrics.record(result);
            future.complete(List.of(result));
        });
    }

    @Override
    public void timeout(Handover handover, ResultFuture<InferenceResult> future) {
        future.complete(List.of(timedOut(handover.request(), "decoded")));
    }
}
