package dev.exegpt.operators.flink;

import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import dev.exegpt.operators.core.DeadLetters;
import dev.exegpt.operators.core.PromptTokenizer;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.operators.core.RequestLimits;
import dev.exegpt.operators.core.RequestValidator;
import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.operators.core.Verdict;
import dev.exegpt.schemas.DeadLetter;

/** Decodes and validates raw records; bad ones leave through {@link #DEAD_LETTERS} with the reason. */
public class ValidateRequestFunction extends ProcessFunction<RawRecord, ValidRequest> {

    private static final long serialVersionUID = 1L;

    /** Records that are not valid requests, with the stage and the reason. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

    /** Makes the tokenizer on the task manager (tokenizers are not serializable). */
    public interface TokenizerFactory extends java.io.Serializable {
        PromptTokenizer create();
    }

    private final RequestLimits limits;
    private final TokenizerFactory tokenizerFactory;
    private final Map<String, Long> taskSloLatencyMs;
    private transient RequestValidator validator;

    public ValidateRequestFunction(RequestLimits limits, TokenizerFactory tokenizerFactory, Map<String, Long> taskSloLatencyMs) {
        this.limits = limits;
        this.tokenizerFactory = tokenizerFactory;
        this.taskSloLatencyMs = Map.copyOf(taskSloLatencyMs);
    }

    @Override
    public void open(OpenContext context) {
        validator = new RequestValidator(limits, tokenizerFactory.create(), taskSloLatencyMs);
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<ValidRequest> out) {
        long now = System.currentTimeMillis();
        Verdict verdict = validator.validate(raw, now);
        if (verdict instanceof Verdict.Accepted accepted) {
            out.collect(accepted.request());
        } else if (verdict instanceof Verdict.Rejected rejected) {
            ctx.output(DEAD_LETTERS, DeadLetters.of(raw, rejected, now));
        }
    }
}
