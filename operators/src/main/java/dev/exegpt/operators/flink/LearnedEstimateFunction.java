package dev.exegpt.operators.flink;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

import dev.exegpt.operators.core.OutputLengthStats;
import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;

/**
 * Keyed by task: attaches each request's expected output length from the task's observed distribution, which it
 * learns from finished requests (the job's own results, read back from the results topic) on top of the task's
 * published distribution. ExeGPT plans from the distribution only (PAPER.md §10): the expectation serves the audit
 * of the estimator and the planner's drift detection, not the grouping of requests.
 */
public class LearnedEstimateFunction extends KeyedCoProcessFunction<String, ValidRequest, InferenceResult, ValidRequest> {

    private static final long serialVersionUID = 1L;
    private transient ValueState<OutputLengthStats> stats;

    @Override
    public void open(OpenContext context) {
        stats = getRuntimeContext().getState(new ValueStateDescriptor<>("output-length-stats", OutputLengthStats.class));
    }

    @Override
    public void processElement1(ValidRequest request, Context ctx, Collector<ValidRequest> out) throws Exception {
        double expected = current(request.task()).expectedTokens(request.numInputTokens());
        int capped = (int) Math.min(Math.round(expected), request.request().getMaxNewTokens());
        out.collect(request.withEstimatedOutputTokens(capped));
    }

    @Override
    public void processElement2(InferenceResult result, Context ctx, Collector<ValidRequest> out) throws Exception {
        if (result.getFinishReason() == FinishReason.EOS || result.getFinishReason() == FinishReason.MAX_TOKENS) {
            OutputLengthStats s = current(result.getTask());
            s.observe(result.getNumInputTokens(), result.getNumOutputTokens());
            stats.update(s);
        }
    }

    private OutputLengthStats current(String task) throws Exception {
        OutputLengthStats s = stats.value();
        return s != null ? s : OutputLengthStats.withPrior(EstimateLengthFunction.expectedOutputTokens(task));
    }
}
