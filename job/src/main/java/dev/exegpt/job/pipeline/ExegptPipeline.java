package dev.exegpt.job.pipeline;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.windowing.assigners.TumblingProcessingTimeWindows;

import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.operators.flink.DeduplicateFunction;
import dev.exegpt.operators.flink.DispatchFunction;
import dev.exegpt.operators.flink.DispatchedRequest;
import dev.exegpt.operators.flink.EstimateLengthFunction;
import dev.exegpt.operators.flink.ExecutorFunction;
import dev.exegpt.operators.flink.SloAuditFunction;
import dev.exegpt.operators.flink.ValidateRequestFunction;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * The job graph of DESIGN.md §2, independent of where records come from and go to (STYLE.md C12): the caller gives
 * the raw request stream and the schedule stream, and sinks the three streams this returns (Kafka in the job, files
 * in batch mode, collections in tests).
 *
 * <pre>
 * raw -> validate -> deduplicate (keyed by id) -> estimate -> dispatch (+ schedules, broadcast)
 *     -> partition by replica -> executor (async, one engine per subtask) -> results -> audit windows
 * validate and deduplicate -> dead letters
 * </pre>
 */
public final class ExegptPipeline {

    /** What the pipeline produces. {@code audit} is null when built without the windowed audit (batch mode). */
    public record Streams(DataStream<InferenceResult> results, DataStream<DeadLetter> deadLetters,
                          DataStream<AuditWindow> audit) {}

    private ExegptPipeline() {}

    /**
     * @param raw       requests as raw records (bytes and their Kafka position)
     * @param schedules newer schedules to adopt at run time (may be a stream of just the initial one)
     * @param withAudit whether to add the processing-time audit windows (streaming mode)
     */
    public static Streams build(DataStream<RawRecord> raw, DataStream<Schedule> schedules, PipelineSettings settings,
                                boolean withAudit) {
        String modelDir = settings.executor().modelDir();
        SingleOutputStreamOperator<ValidRequest> valid = raw
                .process(new ValidateRequestFunction(settings.limits(), () -> tokenizerFor(modelDir)::encode,
                        settings.taskSloLatencyMs()))
                .name("validate").uid("validate");
        SingleOutputStreamOperator<ValidRequest> unique = valid
                .keyBy(ValidRequest::requestId)
                .process(new DeduplicateFunction(settings.dedupRememberMs()))
                .name("deduplicate").uid("deduplicate");
        DataStream<ValidRequest> estimated = unique
                .process(new EstimateLengthFunction())
                .name("estimate-length").uid("estimate-length");
        DataStream<DispatchedRequest> dispatched = estimated
                .connect(schedules.broadcast(DispatchFunction.SCHEDULE_STATE))
                .process(new DispatchFunction(settings.schedule(), settings.numExecutors()))
                .name("dispatch").uid("dispatch")
                .partitionCustom((replica, numPartitions) -> replica % numPartitions, DispatchedRequest::replica);
        DataStream<InferenceResult> results = AsyncDataStream
                .unorderedWait(dispatched, new ExecutorFunction(settings.executor(), settings.schedule()),
                        settings.executor().requestTimeoutMs(), TimeUnit.MILLISECONDS, settings.asyncCapacity())
                .setParallelism(settings.numExecutors())
                .name("executor").uid("executor")
                .returns(TypeInformation.of(InferenceResult.class));
        DataStream<DeadLetter> deadLetters = valid.getSideOutput(ValidateRequestFunction.DEAD_LETTERS)
                .union(unique.getSideOutput(ValidateRequestFunction.DEAD_LETTERS));
        DataStream<AuditWindow> audit = !withAudit ? null : results
                .keyBy(SloAuditFunction::auditKey)
                .window(TumblingProcessingTimeWindows.of(Duration.ofMillis(settings.auditWindowMs())))
                .process(new SloAuditFunction(settings.schedule().getBoundOutputTokens()))
                .name("slo-audit").uid("slo-audit");
        return new Streams(results, deadLetters, audit);
    }

    private static BpeTokenizer tokenizerFor(String modelDir) {
        try {
            return new BpeTokenizer(ModelConfig.read(java.nio.file.Path.of(modelDir)));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read the model config in " + modelDir, e);
        }
    }
}
