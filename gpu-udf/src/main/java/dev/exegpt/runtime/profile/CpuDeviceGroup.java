package dev.exegpt.runtime.profile;

import dev.exegpt.runtime.backend.cpu.CpuOps;
import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.VectorKernels;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.LayerWorkload;
import dev.exegpt.runtime.model.LoopbackAllReduce;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * A tensor-parallel group of {@code degree} CPU devices (one thread each, each with its own kernel threads) holding one
 * layer's shards, for timing: {@link #run} runs a task on every rank at once and returns when all are done.
 */
final class CpuDeviceGroup implements DeviceGroup {
    final int degree;
    final List<Kernels> kernels = new ArrayList<>();
    final List<ShardLayout> shards = new ArrayList<>();
    final LoopbackAllReduce allReduce;
    private final ExecutorService pool;
    private final Map<Layer, CpuOps> opsOf = new IdentityHashMap<>();

    CpuDeviceGroup(ModelConfig c, int degree, int threadsPerDevice) {
        this.degree = degree;
        this.allReduce = new LoopbackAllReduce(degree);
        for (int r = 0; r < degree; r++) {
            kernels.add(new VectorKernels(threadsPerDevice));
            shards.add(ShardLayout.of(c, r, degree));
        }
        this.pool = Executors.newFixedThreadPool(degree, t -> {
            Thread th = new Thread(t, "profile-device");
            th.setDaemon(true);
            return th;
        });
    }

    @Override
    public int degree() {
        return degree;
    }

    @Override
    public List<Layer> layers(ModelConfig c, Weights w, Phase phase) {
        List<Layer> layers = new ArrayList<>();
        for (int r = 0; r < degree; r++) {
            CpuOps ops = new CpuOps(kernels.get(r), allReduce, r);
            Layer l = c.family().layer(c, w, phase, 0, shards.get(r), ops);
            opsOf.put(l, ops);
            layers.add(l);
        }
        return layers;
    }

    @Override
    public void run(IntFunction<Runnable> task) throws Exception {
        List<Future<?>> fs = new ArrayList<>();
        for (int r = 0; r < degree; r++) fs.add(pool.submit(task.apply(r)));
        for (Future<?> f : fs) f.get();
    }

    /** Every rank runs its layer over the step, each on its own copy of x (copied in the timed span, as before). */
    @Override
    public double forwardMs(List<Layer> layers, StepBatch b, float[] x) throws Exception {
        return runMs(r -> {
            float[] copy = x.clone();
            Layer l = layers.get(r);
            CpuOps ops = opsOf.get(l);
            return () -> {
                l.forward(b, CpuOps.wrap(copy));
                if (ops != null) ops.endStep();                        // as the engine's devices do per task
            };
        });
    }

    @Override
    public double runMs(IntFunction<Runnable> task) throws Exception {
        long t0 = System.nanoTime();
        run(task);
        return (System.nanoTime() - t0) / 1e6;
    }

    @Override
    public Runnable attentionOnly(LayerWorkload w, int rank) {
        float[][] in = w.randomAttentionInputs(shards.get(rank));
        CpuOps ops = new CpuOps(kernels.get(rank), allReduce, rank);
        Runnable attention = w.attentionOnly(shards.get(rank), ops, w.batch(),
                CpuOps.wrap(in[0]), CpuOps.wrap(in[1]), CpuOps.wrap(in[2]), CpuOps.wrap(in[3]));
        return () -> {
            attention.run();
            ops.endStep();
        };
    }

    @Override
    public void allReduce(int rank, float[] data, int len) {
        allReduce.sum(rank, data, len);
    }

    @Override
    public void close() {
        pool.shutdownNow();
        for (Kernels k : kernels) k.close();
    }
}
