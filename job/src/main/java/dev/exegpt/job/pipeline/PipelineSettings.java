package dev.exegpt.job.pipeline;

import dev.exegpt.operators.runner.Admission;

import java.io.Serializable;
import java.util.Map;

import dev.exegpt.operators.core.RequestLimits;
import dev.exegpt.operators.flink.ControlLoopFunction;
import dev.exegpt.operators.flink.ExecutorSpec;
import dev.exegpt.schemas.Schedule;

/**
 * Everything the pipeline's operators need, fixed when the job graph is built.
 *
 * @param limits           what a valid request must respect (tasks, vocabulary, positions)
 * @param taskSloLatencyMs the SLO of each task's requests that carry none, ms
 * @param executor         how executors build their engines
 * @param schedule         the schedule in force at start (newer ones may arrive on the schedules topic)
 * @param numExecutors     executor parallelism: the number of device groups (replicas)
 * @param auditWindowMs    length of the SLO audit windows, ms
 * @param dedupRememberMs  how long request ids are remembered for deduplication, ms
 * @param control          the control loop's settings; null: the schedule stays as planned
 */
public record PipelineSettings(RequestLimits limits, Map<String, Long> taskSloLatencyMs, ExecutorSpec executor,
                               Schedule schedule, int numExecutors, long auditWindowMs, long dedupRememberMs,
                               ControlLoopFunction.Spec control)
        implements Serializable {

    /** Without a control loop. */
    public PipelineSettings(RequestLimits limits, Map<String, Long> taskSloLatencyMs, ExecutorSpec executor,
                            Schedule schedule, int numExecutors, long auditWindowMs, long dedupRememberMs) {
        this(limits, taskSloLatencyMs, executor, schedule, numExecutors, auditWindowMs, dedupRememberMs, null);
    }

    public PipelineSettings {
        taskSloLatencyMs = Map.copyOf(taskSloLatencyMs);
        if (numExecutors < 1) {
            throw new IllegalArgumentException("numExecutors must be >= 1, got " + numExecutors);
        }
        if (auditWindowMs < 100) {
            throw new IllegalArgumentException("auditWindowMs must be >= 100, got " + auditWindowMs);
        }
        if (dedupRememberMs < 1_000) {
            throw new IllegalArgumentException("dedupRememberMs must be >= 1000, got " + dedupRememberMs);
        }
    }

    /**
     * The same settings without the control loop (and without executors publishing their steps) and with admission
     * control off: batch mode, where every request of the file must get its output (its SLO is the bound the plan
     * was made for, not a reason to drop it).
     */
    public PipelineSettings withoutControl() {
        ExecutorSpec e = executor;
        ExecutorSpec quiet = new ExecutorSpec(e.modelDir(), e.backend(), e.threadsPerDevice(), e.kvCacheCapacityBytes(),
                e.requestTimeoutMs(), e.warmUpMs(), e.gpuIndexes(), Admission.Mode.OFF, e.stepLogDir(), null, e.maxInFlight());
        return new PipelineSettings(limits, taskSloLatencyMs, quiet, schedule, numExecutors, auditWindowMs, dedupRememberMs, null);
    }

    /**
     * Requests one executor may hold at once (the async operator's capacity): {@code executor.max.in.flight} where
     * set, else what the start schedule needs ({@link #asyncCapacityFor}). A schedule adopted later keeps it: a job
     * that will switch to larger batches (the bench's arms) sets the key for the largest.
     */
    public int asyncCapacity() {
        return executor.maxInFlight() > 0 ? executor.maxInFlight() : asyncCapacityFor(schedule);
    }

    /**
     * What a schedule needs an executor to hold: a full decode batch and the next encode batches waiting behind it
     * (vLLM: its sequence cap), so that the schedule, not the operator, decides the batch sizes; at least 16.
     */
    public static int asyncCapacityFor(Schedule s) {
        return dev.exegpt.scheduler.plan.PolicyRegistry.requestsHeld(s.getEncodeBatchSize(), s.getDecodeBatchSize(),
                s.getMaxNumSeqs());
    }
}
