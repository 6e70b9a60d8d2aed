package dev.exegpt.operators.flink;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.scheduler.workload.Workloads;

/**
 * Attaches to each request the expected output length of its task, from the task's length distribution in
 * {@code datasets/}. ExeGPT plans from the distribution only (PAPER.md §10); this expectation serves the audit of
 * the estimator and is not used to group requests in the faithful mode.
 */
public class EstimateLengthFunction extends ProcessFunction<ValidRequest, ValidRequest> {

    private static final long serialVersionUID = 1L;
    private transient Map<String, Integer> expectedByTask;

    @Override
    public void open(OpenContext context) {
        expectedByTask = new HashMap<>();
    }

    @Override
    public void processElement(ValidRequest request, Context ctx, Collector<ValidRequest> out) {
        int expected = expectedByTask.computeIfAbsent(request.task(), EstimateLengthFunction::expectedOutputTokens);
        int capped = expected > 0 ? Math.min(expected, request.request().getMaxNewTokens()) : 0;
        out.collect(request.withEstimatedOutputTokens(capped));
    }

    static int expectedOutputTokens(String task) {
        try {
            Workload workload = Workloads.byName(task);
            return (int) Math.round(workload.meanOutputTokens());
        } catch (IllegalArgumentException unknownDistribution) {
            return 0;      // a configured task without a distribution file: no estimate
        }
    }
}
