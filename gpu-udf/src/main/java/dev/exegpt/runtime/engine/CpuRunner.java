package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.backend.cpu.CpuOps;
import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.ReferenceKernels;
import dev.exegpt.runtime.kernel.VectorKernels;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ModelHead;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CPU backend of an engine: the layout's stages and tensor-parallel ranks as device threads ({@link Pipeline}),
 * each with its own kernels, and the head on the engine's thread with all cores. States are host arrays.
 */
final class CpuRunner implements ModelRunner {
    private static final Logger LOG = LoggerFactory.getLogger(CpuRunner.class);

    private final ModelConfig c;
    private final long capacityBytes;
    private final CpuOps headOps;
    private final ModelHead head;
    private final Pipeline pipeline;

    CpuRunner(ModelConfig c, Weights weights, EngineConfig engineConfig) {
        this.c = c;
        this.capacityBytes = engineConfig.kvCacheCapacityBytes();
        List<StageSpec> specs = engineConfig.layout().stages(c);
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = engineConfig.threadsPerDevice() > 0 ? engineConfig.threadsPerDevice()
                : Math.max(1, cores / engineConfig.layout().numDevices());
        int headThreads = engineConfig.threadsPerDevice() > 0 ? engineConfig.threadsPerDevice() : cores;
        Kernels headKernels = engineConfig.referenceKernels() ? new ReferenceKernels() : new VectorKernels(headThreads);
        this.headOps = new CpuOps(headKernels);
        try {
            this.head = new ModelHead(c, weights, headOps);
            this.pipeline = new Pipeline(c, weights, specs, engineConfig.referenceKernels(), threads,
                    headKernels instanceof VectorKernels v ? v : null);
        } catch (RuntimeException e) {
            headOps.close();
            throw e;
        }
        LOG.info("engine: {} {} layout {} ({} devices, {} kernel threads each), state capacity {} MiB",
                c.architecture(), c.dModel(), engineConfig.layout(), engineConfig.layout().numDevices(),
                threads, capacityBytes >> 20);
    }

    @Override
    public Backend backend() { return Backend.CPU; }

    @Override
    public ModelHead head() { return head; }

    @Override
    public int numStages(Phase phase) { return pipeline.numStages(phase); }

    @Override
    public CompletableFuture<Ops.Act> submit(Phase phase, StepBatch b, Ops.Act x) {
        return pipeline.submit(phase, b, CpuOps.array(x)).done.thenApply(CpuOps::wrap);
    }

    @Override
    public boolean runsOnCaller() { return pipeline.inline(); }

    @Override
    public Ops.Act run(Phase phase, StepBatch b, Ops.Act x) {
        return pipeline.runInline(phase, b, x);
    }

    @Override
    public long capacityBytes() { return capacityBytes; }

    /** The head's activations go back to its arena (each device recycles its own when it starts its next task). */
    @Override
    public void endStep() { headOps.endStep(); }

    @Override
    public List<Long> weightBytes() {
        List<Long> bytes = new ArrayList<>(pipeline.weightBytesPerDevice());
        bytes.add(head.weightBytes());
        return bytes;
    }

    @Override
    public SequenceState allocate(int maxPositions, int encoderLength, long bytes) {
        return new SequenceState(c.numDecoderLayers(), c.kvDim(), maxPositions, encoderLength, c.dModel());
    }

    @Override
    public void free(SequenceState s) {}

    @Override
    public SequenceState hostForm(SequenceState s) { return s; }

    @Override
    public void download(SequenceState s, SequenceState host) {}

    @Override
    public void upload(SequenceState host, SequenceState s) {}

    @Override
    public double lastStepGpuMs() { return Double.NaN; }

    @Override
    public void close() {
        pipeline.close();
        headOps.close();
    }
}
