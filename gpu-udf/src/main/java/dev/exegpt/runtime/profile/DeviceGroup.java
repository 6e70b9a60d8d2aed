package dev.exegpt.runtime.profile;

import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.LayerWorkload;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The devices of one tensor-parallel degree that {@link XProfiler} times one layer on: CPU threads
 * ({@link CpuDeviceGroup}) or one GPU ({@link CudaDeviceGroup}). Every call returns when the work is done (a GPU waits
 * for its stream); the timed calls say how long the work took: wall clock on the CPU, CUDA events around the kernels
 * on a GPU (so neither the input's copy nor the host's wait counts).
 */
interface DeviceGroup extends AutoCloseable {

    int degree();

    /** Layer 0 of the phase's stack, one shard per rank. */
    List<Layer> layers(ModelConfig c, Weights w, Phase phase);

    /** Every rank runs its layer over the step, each on its own copy of x (numTokens, dModel); the ms it took. */
    double forwardMs(List<Layer> layers, StepBatch b, float[] x) throws Exception;

    /** The attention alone of one layer over the workload's step, on one rank. */
    Runnable attentionOnly(LayerWorkload w, int rank);

    /** Runs task(rank) on every rank concurrently. */
    void run(IntFunction<Runnable> task) throws Exception;

    /** {@link #run}, and the ms it took. */
    double runMs(IntFunction<Runnable> task) throws Exception;

    /** The group's all-reduce of data[0, len) as rank (TP degrees above 1 only). */
    void allReduce(int rank, float[] data, int len);

    @Override
    void close();
}
