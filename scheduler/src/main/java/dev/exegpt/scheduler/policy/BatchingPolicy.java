package dev.exegpt.scheduler.policy;

/**
 * Decides an executor's next step and hears how it went (DESIGN.md §4, STYLE.md C8, C9). The same instance type is
 * driven by the simulator (virtual clock, cost model) and by the executors in operators (real clock, real engine).
 */
public interface BatchingPolicy {

    StepPlan next(ExecutorView view);

    /** Called when a step ends; numCompleted requests finished in it. Default: nothing to learn. */
    default void onStepEnd(StepPlan plan, int numCompleted) {}

    /** False for static batching: finished requests stay in the batch until every member is done (no early termination). */
    default boolean earlyTermination() {
        return true;
    }
}
