package dev.exegpt.operators.flink;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

import dev.exegpt.operators.core.OutputLengthStats;
import dev.exegpt.operators.core.Oversize;
import dev.exegpt.operators.core.RequestLimits;
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
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LearnedEstimateFunction.class);
    private final RequestLimits limits;
    private transient ValueState<OutputLengthStats> stats;
    private transient long numIgnored;

    /**
     * @param limits what a request of this job may be: a result read back that no request of the job could have
     *               produced (another producer's record on the results topic) is not learned from
     */
    public LearnedEstimateFunction(RequestLimits limits) {
        this.limits = limits;
    }

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
        if (!couldBeOurs(result)) {
            if (numIgnored++ % 1000 == 0) {
                LOG.warn("not learning from a result on the results topic that no request of this job could produce "
                        + "(task '{}', {} input and {} output tokens); {} such so far", Oversize.cut(result.getTask(), 64),
                        result.getNumInputTokens(), result.getNumOutputTokens(), numIgnored);
            }
            return;
        }
        if (result.getFinishReason() == FinishReason.EOS || result.getFinishReason() == FinishReason.MAX_TOKENS) {
            OutputLengthStats s = current(result.getTask());
            s.observe(result.getNumInputTokens(), result.getNumOutputTokens());
            stats.update(s);
        }
    }

    /** A known task (so keyed state stays one entry per task) and lengths within the job's limits. */
    private boolean couldBeOurs(InferenceResult r) {
        return limits.knownTasks().contains(r.getTask()) && r.getNumInputTokens() >= 1
                && r.getNumInputTokens() <= limits.maxPromptTokens() && r.getNumOutputTokens() >= 0
                && r.getNumOutputTokens() <= limits.maxNewTokensLimit();
    }

    private OutputLengthStats current(String task) throws Exception {
        OutputLengthStats s = stats.value();
        return s != null ? s : OutputLengthStats.withPrior(EstimateLengthFunction.expectedOutputTokens(task));
    }
}
