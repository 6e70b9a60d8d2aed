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
import dev.exegpt.operators.flink.EncoderOutput;
import dev.exegpt.operators.flink.WaaDecoderFunction;
import dev.exegpt.operators.flink.WaaEncoderFunction;
import dev.exegpt.operators.runner.Handover;
import dev.exegpt.operators.runner.Policies;
import dev.exegpt.operators.flink.EstimateLengthFunction;
import dev.exegpt.operators.flink.ExecutorFunction;
import dev.exegpt.operators.flink.LearnedEstimateFunction;
import dev.exegpt.operators.flink.SloAuditFunction;
import dev.exegpt.operators.flink.ValidateRequestFunction;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
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
 *     (WAA: -> encoder group -> hand-over by replica -> decoder group -> results)
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
        return build(raw, schedules, null, settings, withAudit);
    }

    /**
     * @param feedback finished results to learn the tasks' output lengths from (the job's results topic read back);
     *                 null to estimate from the published distributions only
     */
    public static Streams build(DataStream<RawRecord> raw, DataStream<Schedule> schedules, DataStream<InferenceResult> feedback,
                                PipelineSettings settings, boolean withAudit) {
        String modelDir = settings.executor().modelDir();
        SingleOutputStreamOperator<ValidRequest> valid = raw
                .process(new ValidateRequestFunction(settings.limits(), () -> tokenizerFor(modelDir)::encode,
                        settings.taskSloLatencyMs()))
                .name("validate").uid("validate");
        SingleOutputStreamOperator<ValidRequest> unique = valid
                .keyBy(ValidRequest::requestId)
                .process(new DeduplicateFunction(settings.dedupRememberMs()))
                .name("deduplicate").uid("deduplicate");
        DataStream<ValidRequest> estimated = feedback == null
                ? unique.process(new EstimateLengthFunction()).name("estimate-length").uid("estimate-length")
                : unique.keyBy(ValidRequest::task)
                        .connect(feedback.keyBy(InferenceResult::getTask))
                        .process(new LearnedEstimateFunction(settings.limits()))
                        .name("estimate-length-learned").uid("estimate-length-learned");
        DataStream<DispatchedRequest> dispatched = estimated
                .connect(schedules.broadcast(DispatchFunction.SCHEDULE_STATE))
                .process(new DispatchFunction(settings.schedule(), settings.numExecutors()))
                .name("dispatch").uid("dispatch")
                .partitionCustom((replica, numPartitions) -> replica % numPartitions, DispatchedRequest::replica);
        DataStream<InferenceResult> results = Policies.splitsEncodeAndDecode(settings.schedule())
                ? waaExecutors(dispatched, settings) : executors(dispatched, settings);
        DataStream<DeadLetter> deadLetters = valid.getSideOutput(ValidateRequestFunction.DEAD_LETTERS)
                .union(unique.getSideOutput(ValidateRequestFunction.DEAD_LETTERS));
        DataStream<AuditWindow> audit = !withAudit ? null : results
                .keyBy(SloAuditFunction::auditKey)
                .window(TumblingProcessingTimeWindows.of(Duration.ofMillis(settings.auditWindowMs())))
                .process(new SloAuditFunction(settings.schedule().getBoundOutputTokens()))
                .name("slo-audit").uid("slo-audit");
        return new Streams(results, deadLetters, audit);
    }

    /** One engine per replica runs encode and decode (RRA, STATIC, CONTINUOUS). */
    private static DataStream<InferenceResult> executors(DataStream<DispatchedRequest> dispatched, PipelineSettings settings) {
        return AsyncDataStream
                .unorderedWait(dispatched, new ExecutorFunction(settings.executor(), settings.schedule()),
                        settings.executor().requestTimeoutMs(), TimeUnit.MILLISECONDS, settings.asyncCapacity())
                .setParallelism(settings.numExecutors())
                .name("executor").uid("executor")
                .returns(TypeInformation.of(InferenceResult.class));
    }

    /**
     * WAA: an encoder group and a decoder group per replica, as two operators; the encoded state travels between
     * them over Flink's network to the decoder group of the same replica (PAPER.md §5.2).
     */
    private static DataStream<InferenceResult> waaExecutors(DataStream<DispatchedRequest> dispatched, PipelineSettings settings) {
        long timeoutMs = settings.executor().requestTimeoutMs();
        SingleOutputStreamOperator<EncoderOutput> encoded = AsyncDataStream
                .unorderedWait(dispatched, new WaaEncoderFunction(settings.executor(), settings.schedule()), timeoutMs,
                        TimeUnit.MILLISECONDS, settings.asyncCapacity())
                .setParallelism(settings.numExecutors())
                .name("waa-encoder").uid("waa-encoder")
                .returns(TypeInformation.of(EncoderOutput.class));
        DataStream<InferenceResult> finishedAtEncode = encoded
                .filter(o -> o.result() != null).setParallelism(settings.numExecutors()).name("finished-at-encode")
                .map(EncoderOutput::result).returns(TypeInformation.of(InferenceResult.class))
                .setParallelism(settings.numExecutors());
        DataStream<Handover> handovers = encoded
                .filter(o -> o.handover() != null).setParallelism(settings.numExecutors()).name("handover")
                .partitionCustom((replica, n) -> replica % n, EncoderOutput::replica)
                .map(EncoderOutput::handover).returns(TypeInformation.of(Handover.class))
                .setParallelism(settings.numExecutors());
        DataStream<InferenceResult> decoded = AsyncDataStream
                .unorderedWait(handovers, new WaaDecoderFunction(settings.executor(), settings.schedule()), timeoutMs,
                        TimeUnit.MILLISECONDS, settings.asyncCapacity())
                .setParallelism(settings.numExecutors())
                .name("waa-decoder").uid("waa-decoder")
                .returns(TypeInformation.of(InferenceResult.class));
        return finishedAtEncode.union(decoded);
    }

    private static BpeTokenizer tokenizerFor(String modelDir) {
        try {
            return BpeTokenizer.load(java.nio.file.Path.of(modelDir));          // the checkpoint's own tokenizer
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read the tokenizer of " + modelDir, e);
        }
    }
}
