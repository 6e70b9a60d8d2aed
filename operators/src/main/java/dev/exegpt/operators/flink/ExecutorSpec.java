package dev.exegpt.operators.flink;

import java.io.Serializable;
import java.util.List;

import dev.exegpt.operators.runner.Admission;

/**
 * How an executor builds its engine on the task manager.
 *
 * @param modelDir             checkpoint folder (config.json + model.safetensors)
 * @param backend              cpu, cuda or auto
 * @param threadsPerDevice     kernel threads per device; 0 divides the cores among the executors' devices
 * @param kvCacheCapacityBytes sequence-state bytes each engine may hold
 * @param requestTimeoutMs     a request not answered within this is answered with an error result
 * @param warmUpMs             untimed generation when an engine starts, ms, so the first requests do not pay the JIT
 * @param gpuIndexes           backend cuda: GPUs the subtasks take in turn where Flink offers none
 *                             ({@code executor.gpu.indexes}; empty: subtask index modulo the devices), see GpuAssignment
 * @param admission            whether a request that can no longer meet its deadline is answered before it runs
 * @param stepLogDir           where each executor writes every engine step it runs as CSV ({@code EngineStepCsv},
 *                             one file per executor and attempt); empty: no log
 * @param steps                where each executor publishes its engine steps for the control loop; null: nowhere
 */
public record ExecutorSpec(String modelDir, String backend, int threadsPerDevice, long kvCacheCapacityBytes,
                           long requestTimeoutMs, long warmUpMs, List<Integer> gpuIndexes, Admission.Mode admission,
                           String stepLogDir, StepTopic steps, int maxInFlight)
        implements Serializable {

    /** Requests the executor holds at once, from the schedule (no {@code executor.max.in.flight}). */
    public ExecutorSpec(String modelDir, String backend, int threadsPerDevice, long kvCacheCapacityBytes,
                        long requestTimeoutMs, long warmUpMs, List<Integer> gpuIndexes, Admission.Mode admission,
                        String stepLogDir, StepTopic steps) {
        this(modelDir, backend, threadsPerDevice, kvCacheCapacityBytes, requestTimeoutMs, warmUpMs, gpuIndexes, admission,
                stepLogDir, steps, 0);
    }

    /** Without publishing the steps. */
    public ExecutorSpec(String modelDir, String backend, int threadsPerDevice, long kvCacheCapacityBytes,
                        long requestTimeoutMs, long warmUpMs, List<Integer> gpuIndexes, Admission.Mode admission,
                        String stepLogDir) {
        this(modelDir, backend, threadsPerDevice, kvCacheCapacityBytes, requestTimeoutMs, warmUpMs, gpuIndexes, admission,
                stepLogDir, null);
    }

    /** With no configured GPU indexes, admission control off and no step log. */
    public ExecutorSpec(String modelDir, String backend, int threadsPerDevice, long kvCacheCapacityBytes,
                        long requestTimeoutMs, long warmUpMs) {
        this(modelDir, backend, threadsPerDevice, kvCacheCapacityBytes, requestTimeoutMs, warmUpMs, List.of(),
                Admission.Mode.OFF, "");
    }

    public ExecutorSpec {
        if (modelDir == null || modelDir.isBlank()) {
            throw new IllegalArgumentException("modelDir must name a checkpoint folder");
        }
        if (threadsPerDevice < 0) {
            throw new IllegalArgumentException("threadsPerDevice must be >= 0 (0: automatic), got " + threadsPerDevice);
        }
        if (kvCacheCapacityBytes <= 0) {
            throw new IllegalArgumentException("kvCacheCapacityBytes must be > 0, got " + kvCacheCapacityBytes);
        }
        if (warmUpMs < 0) {
            throw new IllegalArgumentException("warmUpMs must be >= 0, got " + warmUpMs);
        }
        gpuIndexes = List.copyOf(gpuIndexes == null ? List.of() : gpuIndexes);
        stepLogDir = stepLogDir == null ? "" : stepLogDir.trim();
        for (int i : gpuIndexes) {
            if (i < 0) throw new IllegalArgumentException("gpuIndexes must be >= 0, got " + gpuIndexes);
        }
        if (admission == null) {
            throw new IllegalArgumentException("admission must be off or reject-late, got null");
        }
        if (requestTimeoutMs < 1_000) {
            throw new IllegalArgumentException("requestTimeoutMs must be >= 1000, got " + requestTimeoutMs);
        }
        if (maxInFlight < 0) {
            throw new IllegalArgumentException("maxInFlight must be >= 0 (0: from the schedule), got " + maxInFlight);
        }
    }
}
