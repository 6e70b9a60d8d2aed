package dev.exegpt.runtime.engine;

import static dev.exegpt.runtime.Require.require;

/**
 * How an engine runs.
 *
 * @param backend cpu, cuda or auto (CUDA when a device answers and the layout is one device without reference
 *     kernels, else the CPU; see {@link Backend#resolve})
 * @param layout the device group's pipeline stages and TP groups
 * @param threadsPerDevice kernel threads per device; 0 = the machine's cores divided by the layout's devices
 * @param kvCacheCapacityBytes bytes of sequence state (KV cache, encoder output) the engine may hold
 * @param numMicroBatches micro-batches a step is split into, so several are in flight through the pipeline;
 *     0 = one per pipeline stage
 * @param referenceKernels run the plain-loop reference kernels (tests), not the Vector API ones
 * @param keepLogits keep each sequence's last logits (tests compare them with a reference)
 * @param gpuIndex the CUDA device the engine runs on (backend cuda); ignored by the CPU backend
 */
public record EngineConfig(Backend backend, DeviceLayout layout, int threadsPerDevice, long kvCacheCapacityBytes,
                           int numMicroBatches, boolean referenceKernels, boolean keepLogits, int gpuIndex) {

    /**
     * Auto backend, one device, all cores, one micro-batch per stage, and state capacity of half the JVM's maximum
     * heap (the weights and activations need the rest), so a full engine refuses work before memory runs out.
     */
    public static final EngineConfig DEFAULTS = new EngineConfig(Backend.AUTO, DeviceLayout.SINGLE, 0,
            Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 2), 0, false, false, 0);

    public EngineConfig {
        require(backend != null, "backend: must be cpu, cuda or auto");
        require(layout != null, "layout: must be given (DeviceLayout.SINGLE for one device)");
        require(threadsPerDevice >= 0, "threadsPerDevice=%s: must be 0 (auto) or positive", threadsPerDevice);
        require(kvCacheCapacityBytes > 0, "kvCacheCapacityBytes=%s: must be positive", kvCacheCapacityBytes);
        require(numMicroBatches >= 0, "numMicroBatches=%s: must be 0 (one per stage) or positive", numMicroBatches);
        require(gpuIndex >= 0, "gpuIndex=%s: must be 0 or positive", gpuIndex);
    }

    /** On GPU 0. */
    public EngineConfig(Backend backend, DeviceLayout layout, int threadsPerDevice, long kvCacheCapacityBytes,
                        int numMicroBatches, boolean referenceKernels, boolean keepLogits) {
        this(backend, layout, threadsPerDevice, kvCacheCapacityBytes, numMicroBatches, referenceKernels, keepLogits, 0);
    }

    public EngineConfig withBackend(Backend b) {
        return new EngineConfig(b, layout, threadsPerDevice, kvCacheCapacityBytes, numMicroBatches, referenceKernels, keepLogits, gpuIndex);
    }

    public EngineConfig withGpuIndex(int index) {
        return new EngineConfig(backend, layout, threadsPerDevice, kvCacheCapacityBytes, numMicroBatches, referenceKernels, keepLogits, index);
    }

    public EngineConfig withLayout(DeviceLayout l) {
        return new EngineConfig(backend, l, threadsPerDevice, kvCacheCapacityBytes, numMicroBatches, referenceKernels, keepLogits, gpuIndex);
    }

    public EngineConfig withThreadsPerDevice(int n) {
        return new EngineConfig(backend, layout, n, kvCacheCapacityBytes, numMicroBatches, referenceKernels, keepLogits, gpuIndex);
    }

    public EngineConfig withKvCacheCapacityBytes(long bytes) {
        return new EngineConfig(backend, layout, threadsPerDevice, bytes, numMicroBatches, referenceKernels, keepLogits, gpuIndex);
    }

    public EngineConfig withNumMicroBatches(int n) {
        return new EngineConfig(backend, layout, threadsPerDevice, kvCacheCapacityBytes, n, referenceKernels, keepLogits, gpuIndex);
    }

    public EngineConfig withReferenceKernels(boolean on) {
        return new EngineConfig(backend, layout, threadsPerDevice, kvCacheCapacityBytes, numMicroBatches, on, keepLogits, gpuIndex);
    }

    public EngineConfig withKeepLogits(boolean on) {
        return new EngineConfig(backend, layout, threadsPerDevice, kvCacheCapacityBytes, numMicroBatches, referenceKernels, on, gpuIndex);
    }
}
