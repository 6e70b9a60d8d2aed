package dev.exegpt.runtime.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * One GPU as the runtime uses it: its primary context, the kernels' module, one stream that every launch and device
 * copy of the engine goes on (so the host never waits between kernels, only when it reads results), and the device
 * allocations, freed on {@link #close}. The caller thread is bound to the context on construction; a different
 * thread must call {@link #bind} first. JCuda exceptions are on: every driver error throws CudaException.
 */
public final class CudaDevice implements AutoCloseable {
    private final int index;
    private final String name;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUmodule module = new CUmodule();
    private final CUstream stream = new CUstream();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final List<DevPtr> allocations = new ArrayList<>();
    private long allocatedBytes;

    /** Opens device {@code index}: fails with a clear message when the backend is unavailable or the index is absent. */
    public CudaDevice(int index) {
        CudaProbe.Result probe = CudaProbe.probe();
        if (!probe.available()) throw new IllegalStateException("backend cuda: " + probe.reason());
        if (index < 0 || index >= probe.numDevices()) {
            throw new IllegalArgumentException("GPU index " + index + ": this machine has " + probe.numDevices()
                    + " CUDA device(s), indexes 0 to " + (probe.numDevices() - 1));
        }
        this.index = index;
        cuDeviceGet(device, index);
        byte[] n = new byte[256];
        cuDeviceGetName(n, n.length, device);
        this.name = CudaProbe.cString(n);
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        String ptx = Ptx.load();
        byte[] image = Arrays.copyOf(ptx.getBytes(StandardCharsets.US_ASCII), ptx.length() + 1);   // NUL-terminated
        cuModuleLoadData(module, image);
        for (String entry : Ptx.ENTRIES) {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, module, entry);
            functions.put(entry, f);
        }
        // A blocking stream: it orders with the legacy default stream, where the synchronous copies go.
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT);
    }

    public int index() { return index; }

    public String name() { return name; }

    /** Makes this device's context current on the calling thread. */
    public void bind() {
        cuCtxSetCurrent(context);
    }

    /** Free and total device memory, bytes. */
    public long[] memoryInfo() {
        long[] free = new long[1];
        long[] total = new long[1];
        cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    /** Bytes this object has allocated. */
    public long allocatedBytes() { return allocatedBytes; }

    /** A device allocation of bytes (at least 4), freed on close. */
    DevPtr alloc(long bytes) {
        DevPtr p = new DevPtr();
        cuMemAlloc(p, Math.max(4, bytes));
        allocations.add(p);
        allocatedBytes += Math.max(4, bytes);
        return p;
    }

    /** Frees an allocation made by {@link #alloc}. */
    void free(DevPtr p) {
        if (allocations.remove(p)) cuMemFree(p);
    }

    /** A new device array holding a copy of a (synchronous). */
    DevPtr upload(float[] a) {
        DevPtr p = alloc(4L * a.length);
        cuMemcpyHtoD(p, Pointer.to(a), 4L * a.length);
        return p;
    }

    DevPtr upload(int[] a) {
        DevPtr p = alloc(4L * a.length);
        cuMemcpyHtoD(p, Pointer.to(a), 4L * a.length);
        return p;
    }

    /**
     * Copies len longs of a into dst (synchronous: the legacy default stream waits for this device's stream, so the
     * copy lands after the kernels queued before it).
     */
    void copyIn(DevPtr dst, long[] a, int len) {
        if (len > 0) cuMemcpyHtoD(dst, Pointer.to(a), 8L * len);
    }

    /** Copies a[off .. off+len) into dst from float index dstFloat on (synchronous, as above). */
    void copyIn(DevPtr dst, long dstFloat, float[] a, int off, int len) {
        if (len > 0) cuMemcpyHtoD(dst.withByteOffset(4 * dstFloat), Pointer.to(a).withByteOffset(4L * off), 4L * len);
    }

    /** Copies len floats from src (from float index srcFloat) into a[off ..) once the stream's work is done. */
    void copyOut(float[] a, int off, DevPtr src, long srcFloat, int len) {
        cuStreamSynchronize(stream);
        if (len > 0) cuMemcpyDtoH(Pointer.to(a).withByteOffset(4L * off), src.withByteOffset(4 * srcFloat), 4L * len);
    }

    void copyOut(long[] a, DevPtr src, int len) {
        cuStreamSynchronize(stream);
        if (len > 0) cuMemcpyDtoH(Pointer.to(a), src, 8L * len);
    }

    /** Device-to-device copy of numFloats floats between float indexes of two allocations, on the stream. */
    void copyAsync(DevPtr dst, long dstFloat, DevPtr src, long srcFloat, long numFloats) {
        if (numFloats > 0) {
            cuMemcpyDtoDAsync(dst.withByteOffset(4 * dstFloat), src.withByteOffset(4 * srcFloat), 4 * numFloats, stream);
        }
    }

    /** Waits for everything queued on the stream. */
    public void sync() {
        cuStreamSynchronize(stream);
    }

    /**
     * Launches a kernel of the module on the stream. Arguments are boxed int, float or long; a device pointer is a
     * long address ({@link DevPtr#address}, 0 for null), as it is to the kernel.
     */
    void launch(String kernel, LaunchGeometry g, Object... args) {
        CUfunction f = functions.get(kernel);
        if (f == null) throw new IllegalArgumentException("kernel " + kernel + ": not in Ptx.ENTRIES");
        NativePointerObject[] params = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) params[i] = param(args[i]);
        cuLaunchKernel(f, g.gridX(), g.gridY(), 1, g.blockX(), 1, 1, g.sharedBytes(), stream,
                Pointer.to(params), null);
    }

    private static Pointer param(Object a) {
        if (a instanceof Integer i) return Pointer.to(new int[] {i});
        if (a instanceof Long l) return Pointer.to(new long[] {l});
        if (a instanceof Float x) return Pointer.to(new float[] {x});
        throw new IllegalArgumentException("kernel argument of type " + a.getClass().getName());
    }

    /** An event recorded on the stream now (profiling: {@link #elapsedMs} between two, after {@link #sync}). */
    CUevent mark() {
        CUevent e = new CUevent();
        cuEventCreate(e, 0);
        cuEventRecord(e, stream);
        return e;
    }

    /** Milliseconds between two recorded events that have completed; destroys neither. */
    static float elapsedMs(CUevent from, CUevent to) {
        float[] ms = new float[1];
        cuEventElapsedTime(ms, from, to);
        return ms[0];
    }

    static void destroy(CUevent e) {
        cuEventDestroy(e);
    }

        /** A pair of events around work queued on the stream; {@link Timer#elapsedMs} waits for the second. */
    public Timer startTimer() {
        return new Timer();
    }

    /** CUDA-event timing of the stream's work between creation and {@link #elapsedMs}. */
    public final class Timer {
        private final CUevent start = new CUevent();
        private final CUevent stop = new CUevent();

        private Timer() {
            cuEventCreate(start, 0);
            cuEventCreate(stop, 0);
            cuEventRecord(start, stream);
        }

        /** Milliseconds of GPU time from creation to now (records the stop event and waits for it). */
        public float elapsedMs() {
            cuEventRecord(stop, stream);
            cuEventSynchronize(stop);
            float[] ms = new float[1];
            cuEventElapsedTime(ms, start, stop);
            cuEventDestroy(start);
            cuEventDestroy(stop);
            return ms[0];
        }
    }

    @Override
    public void close() {
        cuCtxSetCurrent(context);
        cuStreamSynchronize(stream);
        for (DevPtr p : allocations) cuMemFree(p);
        allocations.clear();
        cuStreamDestroy(stream);
        cuModuleUnload(module);
        cuDevicePrimaryCtxRelease(device);
    }
}
