package dev.exegpt.runtime.profile;

import static dev.exegpt.runtime.Require.require;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.cuda.CudaOps;
import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.CudaRunner;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Weights;
import java.util.function.Supplier;

/**
 * One GPU as {@link XProfiler} sees it (TP degree 1): the layers and the head over one {@link CudaOps}, states in
 * its pool; a pipeline hand-off is a device-to-device copy of the activation block (stages on one GPU); the engine
 * of the state transfer and the calibration opens its own {@link CudaOps} on the same device.
 */
public final class CudaDevices implements ProfileDevices {
    private final ModelConfig c;
    private final Supplier<CudaOps> open;
    private final CudaOps ops;
    private final long poolBytes;

    /** GPU gpuIndex, with a state pool of a third of its free memory (at most 8 GiB) for the profiler and the engine each. */
    public CudaDevices(ModelConfig c, int gpuIndex) {
        this(c, () -> CudaOps.open(c, gpuIndex), -1);
    }

    /**
     * On the devices open makes (the profiler's and the engine's; tests: a fake), with state pools of poolBytes each
     * (-1: a third of the free memory, at most 8 GiB).
     */
    public CudaDevices(ModelConfig c, Supplier<CudaOps> open, long poolBytes) {
        this.c = c;
        this.open = open;
        this.ops = open.get();
        try {
            this.poolBytes = poolBytes > 0 ? poolBytes : Math.min(8L << 30, ops.memoryInfo()[0] / 3);
            ops.reservePool(this.poolBytes);
        } catch (RuntimeException e) {
            ops.close();
            throw e;
        }
    }

    @Override
    public String backend() {
        return "cuda";
    }

    @Override
    public String deviceName() {
        return ops.deviceName();
    }

    @Override
    public long deviceMemoryBytes() {
        return ops.memoryInfo()[1];
    }

    @Override
    public DeviceGroup group(int tpDegree) {
        require(tpDegree == 1, "--tp %s: the CUDA backend runs a model on one GPU (TP degree 1)", tpDegree);
        return new CudaDeviceGroup(c, ops);
    }

    @Override
    public Ops headOps() {
        return ops;
    }

    @Override
    public Timing handOff(int floats, int warmups, int repeats) {
        Ops.Act a = ops.buffer(floats);
        Ops.Act b = ops.buffer(floats);
        try {
            return Timing.measure(warmups, repeats, () -> {
                ops.copy(b, a, floats);
                ops.sync();
            });
        } finally {
            ops.free(a);
            ops.free(b);
        }
    }

    @Override
    public Engine engine(ModelConfig model, Weights w, EngineConfig oneDevice) {
        long pool = Math.min(poolBytes, oneDevice.kvCacheCapacityBytes());
        return new Engine(model, oneDevice.withBackend(Backend.CUDA).withKvCacheCapacityBytes(pool),
                new CudaRunner(model, w, pool, open.get()));
    }

    @Override
    public void close() {
        ops.close();
    }
}
