package dev.exegpt.scheduler.policy;

import static dev.exegpt.scheduler.Require.require;

/**
 * RRA (PAPER.md §4.2): encode B_E waiting requests, then run N_D decode iterations of the whole active set, and
 * again. Completed requests leave at once (early termination), so the batch settles at B_E x E[ceil(S/N_D)].
 */
public final class RoundRobinAllocation implements BatchingPolicy {
    private final int encodeBatchSize;
    private final int decodeIterationsPerEncode;
    private int iterationsSinceEncode;
    private boolean encodedOnce;

    public RoundRobinAllocation(int encodeBatchSize, int decodeIterationsPerEncode) {
        require(encodeBatchSize >= 1, "encodeBatchSize must be >= 1, got %s", encodeBatchSize);
        require(decodeIterationsPerEncode >= 1, "decodeIterationsPerEncode must be >= 1, got %s", decodeIterationsPerEncode);
        this.encodeBatchSize = encodeBatchSize;
        this.decodeIterationsPerEncode = decodeIterationsPerEncode;
    }

    @Override
    public StepPlan next(ExecutorView v) {
        boolean phaseOver = !encodedOnce || iterationsSinceEncode >= decodeIterationsPerEncode || v.numActive() == 0;
        if (phaseOver && v.numWaiting() > 0) {
            return StepPlan.encode(Math.min(encodeBatchSize, v.numWaiting()));
        }
        return v.numActive() > 0 ? StepPlan.DECODE : StepPlan.IDLE;
    }

    @Override
    public void onStepEnd(StepPlan plan, int numCompleted) {
        if (plan.kind() == StepPlan.Kind.ENCODE) {
            encodedOnce = true;
            iterationsSinceEncode = 0;
        } else if (plan.kind() == StepPlan.Kind.DECODE) {
            iterationsSinceEncode++;
        }
    }
}
