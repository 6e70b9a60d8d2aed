package dev.exegpt.runtime.profile;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Weights;

/**
 * Where {@link XProfiler} measures: the device groups of each TP degree, the ops the engine's head runs on, the
 * hand-off between pipeline stages, and a one-device engine of the same backend (for the state transfer and the
 * calibration to whole engine steps). {@link CpuDevices}: threads; {@link CudaDevices}: one GPU.
 */
public interface ProfileDevices extends AutoCloseable {

    /** The profile's backend field: "cpu" or "cuda". */
    String backend();

    /** The profile's device name. */
    String deviceName();

    /** The profile's device memory. */
    long deviceMemoryBytes();

    /** The devices of one TP degree. */
    DeviceGroup group(int tpDegree);

    /** The ops of the engine's own thread, where the head runs. */
    Ops headOps();

    /** One hand-off of floats floats from one stage to the next. */
    Timing handOff(int floats, int warmups, int repeats) throws Exception;

    /** A one-device engine of the model on this backend, configured as oneDevice says for the CPU. */
    Engine engine(ModelConfig c, Weights w, EngineConfig oneDevice);

    @Override
    void close();
}
