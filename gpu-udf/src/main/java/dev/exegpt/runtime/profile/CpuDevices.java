package dev.exegpt.runtime.profile;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.backend.cpu.CpuOps;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.kernel.VectorKernels;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Weights;
import java.util.concurrent.SynchronousQueue;
import jdk.incubator.vector.FloatVector;

/**
 * The CPU as {@link XProfiler} sees it: a device is a thread with the kernel threads the grid gives it at each TP
 * degree; the head runs with all cores; a pipeline hand-off is an activation block passed between two threads.
 */
final class CpuDevices implements ProfileDevices {
    private final ModelConfig c;
    private final ProfileGrid grid;
    private final String threadsNote;
    private CpuOps headOps;

    CpuDevices(ModelConfig c, ProfileGrid grid, String threadsNote) {
        this.c = c;
        this.grid = grid;
        this.threadsNote = threadsNote;
    }

    @Override
    public String backend() {
        return "cpu";
    }

    @Override
    public String deviceName() {
        return Runtime.getRuntime().availableProcessors() + "-core CPU, Vector API "
                + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit, " + threadsNote;
    }

    @Override
    public long deviceMemoryBytes() {
        return Runtime.getRuntime().maxMemory();
    }

    @Override
    public DeviceGroup group(int tpDegree) {
        return new CpuDeviceGroup(c, tpDegree, grid.threadsAt(tpDegree));
    }

    @Override
    public Ops headOps() {
        if (headOps == null) headOps = new CpuOps(new VectorKernels(Runtime.getRuntime().availableProcessors()));
        return headOps;
    }

    /** Ping-pong of an activation block between two device threads; one hand-off is half the round trip. */
    @Override
    public Timing handOff(int len, int warmups, int repeats) throws Exception {
        SynchronousQueue<float[]> there = new SynchronousQueue<>();
        SynchronousQueue<float[]> back = new SynchronousQueue<>();
        Thread peer = new Thread(() -> {
            try {
                while (true) {
                    float[] x = there.take();
                    if (x.length == 0) return;
                    back.put(x.clone());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "profile-peer");
        peer.setDaemon(true);
        peer.start();
        float[] block = new float[len];
        Timing round = Timing.measure(warmups, repeats, () -> {
            there.put(block.clone());                           // each hand-off copies the block once
            back.take();
        });
        there.put(new float[0]);
        return new Timing(round.medianMs() / 2, round.minMs() / 2, round.maxMs() / 2, round.numRepeats());
    }

    @Override
    public Engine engine(ModelConfig c, Weights w, EngineConfig oneDevice) {
        return new Engine(c, w, oneDevice);
    }

    @Override
    public void close() {
        if (headOps != null) headOps.close();
    }
}
