package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ModelHead;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.LoggerFactory;

/**
 * What an {@link Engine} runs the model on: the family's layers and head over one backend's {@link Ops}, and the
 * place where sequences' states live. {@link CpuRunner}: device threads on the CPU with host-array states;
 * {@link CudaRunner}: one GPU holding the weights and a pool of states. The engine's admission, accounting,
 * micro-batching and state export are written once over this interface.
 */
public interface ModelRunner extends AutoCloseable {

    /**
     * The runner of the backend the configuration resolves to: the one place the backend is chosen (STYLE.md C6:
     * once, the choice logged). AUTO runs layouts of several devices and the reference kernels on the CPU, which
     * alone runs them.
     */
    static ModelRunner open(ModelConfig config, Weights weights, EngineConfig engineConfig) {
        Backend backend;
        if (engineConfig.backend() == Backend.AUTO
                && (engineConfig.layout().numDevices() > 1 || engineConfig.referenceKernels())) {
            backend = Backend.CPU;
            LoggerFactory.getLogger(ModelRunner.class).info("backend auto: using the CPU backend for layout {}{} (the"
                    + " CUDA backend runs one GPU)", engineConfig.layout(),
                    engineConfig.referenceKernels() ? " with reference kernels" : "");
        } else {
            backend = engineConfig.backend().resolve();
        }
        return backend == Backend.CUDA ? CudaRunner.open(config, weights, engineConfig)
                : new CpuRunner(config, weights, engineConfig);
    }

    /** The backend it runs on. */
    Backend backend();

    /** The embeddings, final norm and LM head, over the ops of the engine's thread. */
    ModelHead head();

    /** Stages the phase passes through: micro-batches in flight at once by default. */
    int numStages(Phase phase);

    /** Runs the layer stack of the phase over x (numTokens, dModel); completes with the final activations. */
    CompletableFuture<Ops.Act> submit(Phase phase, StepBatch b, Ops.Act x);

    /**
     * Whether {@link #run} does the work on the calling thread (one device: nothing to overlap), so that the engine
     * runs its micro-batches in turn through it instead of putting them all in flight through {@link #submit}.
     */
    default boolean runsOnCaller() { return false; }

    /** As {@link #submit}, on the calling thread, for a runner that {@link #runsOnCaller}: no future, no hand-off. */
    default Ops.Act run(Phase phase, StepBatch b, Ops.Act x) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " runs its layers on its own threads");
    }

    /** The step is over (its next tokens are out): what its activations held may be reused. */
    default void endStep() {}

    /** Bytes of state this runner may hold. */
    long capacityBytes();

    /** Bytes of layer weights per device, in pipeline order, plus (last) the embeddings and LM head. */
    List<Long> weightBytes();

    /**
     * The state of a new sequence of this shape, charged bytes; null when the memory has that many bytes free but
     * no range that large (a device pool); the engine has checked the bytes against its capacity.
     */
    SequenceState allocate(int maxPositions, int encoderLength, long bytes);

    /** Frees a state from {@link #allocate}. */
    void free(SequenceState s);

    /** The state's host form for export and import (the state itself when it lives on the host). */
    SequenceState hostForm(SequenceState s);

    /** Copies the state's first length positions (and encoder part) into its host form. */
    void download(SequenceState s, SequenceState host);

    /** Copies a host form back into the state. */
    void upload(SequenceState host, SequenceState s);

    /** GPU time of the last step from device events; NaN where there are none. */
    double lastStepGpuMs();

    @Override
    void close();
}
