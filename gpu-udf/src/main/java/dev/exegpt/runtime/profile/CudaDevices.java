package dev.exegpt.runtime.profile;

import static dev.exegpt.runtime.Require.require;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.cuda.CudaOps;
import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.model.ModelConfig;

/**
 * One GPU as {@link XProfiler} sees it (TP degree 1): the layers and the head over one {@link CudaOps}, states in
 * its pool; a pipeline hand-off is a device-to-device copy of the activation block (stages on one GPU).
 */
final class CudaDevices implements ProfileDevices {
    private final ModelConfig c;
    private final int gpuIndex;
    private final CudaOps ops;

    CudaDevices(ModelConfig c, int gpuIndex) {
        this.c = c;
        this.gpuIndex = gpuIndex;
        this.ops = CudaOps.open(c, gpuIndex);
        try {
            // a third of the free memory: the calibration's engine opens its own pool on the same GPU
            ops.reservePool(Math.min(8L << 30, ops.memoryInfo()[0] / 3));
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
    public EngineConfig engineConfig(EngineConfig cpu) {
        return cpu.withBackend(Backend.CUDA).withGpuIndex(gpuIndex);
    }

    @Override
    public void close() {
        ops.close();
    }
}
