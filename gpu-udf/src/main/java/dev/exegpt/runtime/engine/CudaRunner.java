package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.cuda.CudaOps;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ModelHead;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CUDA backend of an engine: the whole model resident on one GPU ({@link CudaOps}), the family's layers and head
 * over it, sequence states in the device pool. The caller's thread queues each step's kernels and waits once, for
 * the next tokens. TP degree 1.
 */
public final class CudaRunner implements ModelRunner {
    private static final Logger LOG = LoggerFactory.getLogger(CudaRunner.class);

    private final CudaOps ops;
    private final Map<Phase, List<Layer>> layers = new EnumMap<>(Phase.class);
    private final ModelHead head;
    private final long weightBytes;

    /** Uploads the model to GPU engineConfig.gpuIndex() (a layout of one device) and reserves the state pool. */
    static CudaRunner open(ModelConfig c, Weights weights, EngineConfig engineConfig) {
        if (engineConfig.layout().numDevices() != 1) {
            throw new IllegalArgumentException("backend cuda: this build runs a device group on one GPU (TP degree"
                    + " 1); layout " + engineConfig.layout() + " asks for " + engineConfig.layout().numDevices()
                    + " devices (use one device, or --backend cpu)");
        }
        return new CudaRunner(c, weights, engineConfig.kvCacheCapacityBytes(), CudaOps.open(c, engineConfig.gpuIndex()));
    }

    /** Over ops (the tests: a fake device); the runner closes ops, also when loading fails. */
    public CudaRunner(ModelConfig c, Weights weights, long poolBytes, CudaOps ops) {
        this.ops = ops;
        try {
            ShardLayout whole = ShardLayout.of(c, 0, 1);
            List<Layer> decode = new ArrayList<>();
            for (int i = 0; i < c.family().numLayers(c, Phase.DECODE); i++) {
                decode.add(c.family().layer(c, weights, Phase.DECODE, i, whole, ops));
            }
            List<Layer> encode = decode;                      // decoder-only: prefill runs the decoder layers
            if (c.encoderDecoder()) {
                encode = new ArrayList<>();
                for (int i = 0; i < c.family().numLayers(c, Phase.ENCODE); i++) {
                    encode.add(c.family().layer(c, weights, Phase.ENCODE, i, whole, ops));
                }
            }
            layers.put(Phase.ENCODE, encode);
            layers.put(Phase.DECODE, decode);
            head = new ModelHead(c, weights, ops);
            weightBytes = ops.allocatedBytes();
            ops.reservePool(poolBytes);
        } catch (RuntimeException e) {
            ops.close();
            throw e;
        }
        LOG.info("engine: {} {} on CUDA device {}, weights {} MiB, state pool {} MiB", c.architecture(), c.dModel(),
                ops.deviceName(), weightBytes >> 20, ops.pool().capacityBytes() >> 20);
    }

    @Override
    public Backend backend() { return Backend.CUDA; }

    @Override
    public ModelHead head() { return head; }

    @Override
    public int numStages(Phase phase) { return 1; }

    /** Queues the layers' kernels on the caller's thread; the activations stay on the device. */
    @Override
    public CompletableFuture<Ops.Act> submit(Phase phase, StepBatch b, Ops.Act x) {
        try {
            for (Layer l : layers.get(phase)) l.forward(b, x);
            return CompletableFuture.completedFuture(x);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public void endStep() { ops.endStep(); }

    @Override
    public long capacityBytes() { return ops.pool().capacityBytes(); }

    @Override
    public List<Long> weightBytes() { return List.of(weightBytes); }

    @Override
    public SequenceState allocate(int maxPositions, int encoderLength, long bytes) {
        return ops.allocate(maxPositions, encoderLength, bytes);
    }

    @Override
    public void free(SequenceState s) { ops.free(s); }

    @Override
    public SequenceState hostForm(SequenceState s) { return ops.hostForm(s); }

    @Override
    public void download(SequenceState s, SequenceState host) { ops.download(s, host); }

    @Override
    public void upload(SequenceState host, SequenceState s) { ops.upload(host, s); }

    @Override
    public double lastStepGpuMs() { return ops.lastStepMs(); }

    @Override
    public void close() { ops.close(); }
}
