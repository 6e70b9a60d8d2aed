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
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * One GPU as the runtime uses it: its primary context, the kernels' module, one stream that every launch and device
 * copy of the engine goes on (so the host never waits between kernels, only when it reads results), and the device
 * allocations, freed on {@link #close}. Memory is addressed by 64-bit device addresses (a kernel takes a pointer as
 * that value, so an offset into the KV pool costs nothing); copies find the allocation an address falls in. The
 * caller thread is bound to the context on construction; another thread calls {@link #bind} first. JCuda exceptions
 * are on: every driver error throws CudaException.
 */
public final class CudaDevice implements Gpu {
    private final int index;
    private final String name;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUmodule module = new CUmodule();
    private final CUstream stream = new CUstream();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final TreeMap<Long, DevPtr> allocations = new TreeMap<>();
    private final Map<Long, Long> sizes = new HashMap<>();
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

    @Override
    public int index() { return index; }

    @Override
    public String name() { return name; }

    @Override
    public void bind() {
        cuCtxSetCurrent(context);
    }

    @Override
    public long[] memoryInfo() {
        long[] free = new long[1];
        long[] total = new long[1];
        cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    @Override
    public long allocatedBytes() { return allocatedBytes; }

    @Override
    public long alloc(long bytes) {
        DevPtr p = new DevPtr();
        long n = Math.max(4, bytes);
        cuMemAlloc(p, n);
        allocations.put(p.address(), p);
        sizes.put(p.address(), n);
        allocatedBytes += n;
        return p.address();
    }

    @Override
    public void free(long address) {
        DevPtr p = allocations.remove(address);
        if (p == null) throw new IllegalArgumentException("no allocation starts at 0x" + Long.toHexString(address));
        allocatedBytes -= sizes.remove(address);
        cuMemFree(p);
    }

    /** The driver pointer of a device address inside one of this device's allocations. */
    private CUdeviceptr at(long address, long bytes) {
        Map.Entry<Long, DevPtr> e = allocations.floorEntry(address);
        if (e == null || address + bytes > e.getKey() + sizes.get(e.getKey())) {
            throw new IllegalArgumentException(bytes + " bytes at 0x" + Long.toHexString(address)
                    + " are not inside one allocation");
        }
        return e.getValue().withByteOffset(address - e.getKey());
    }

    @Override
    public void copyIn(long dst, long[] a, int len) {
        if (len > 0) cuMemcpyHtoD(at(dst, 8L * len), Pointer.to(a), 8L * len);
    }

    @Override
    public void copyIn(long dst, float[] a, int off, int len) {
        if (len > 0) cuMemcpyHtoD(at(dst, 4L * len), Pointer.to(a).withByteOffset(4L * off), 4L * len);
    }

    @Override
    public void copyIn(long dst, int[] a, int len) {
        if (len > 0) cuMemcpyHtoD(at(dst, 4L * len), Pointer.to(a), 4L * len);
    }

    @Override
    public void copyOut(float[] a, int off, long src, int len) {
        cuStreamSynchronize(stream);
        if (len > 0) cuMemcpyDtoH(Pointer.to(a).withByteOffset(4L * off), at(src, 4L * len), 4L * len);
    }

    @Override
    public void copyOut(long[] a, long src, int len) {
        cuStreamSynchronize(stream);
        if (len > 0) cuMemcpyDtoH(Pointer.to(a), at(src, 8L * len), 8L * len);
    }

    @Override
    public void copyAsync(long dst, long src, long bytes) {
        if (bytes > 0) cuMemcpyDtoDAsync(at(dst, bytes), at(src, bytes), bytes, stream);
    }

    @Override
    public void sync() {
        cuStreamSynchronize(stream);
    }

    @Override
    public void launch(String kernel, LaunchGeometry g, Object... args) {
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
        throw new IllegalArgumentException("kernel argument of type " + (a == null ? "null" : a.getClass().getName()));
    }

    @Override
    public Object mark() {
        CUevent e = new CUevent();
        cuEventCreate(e, 0);
        cuEventRecord(e, stream);
        return e;
    }

    @Override
    public float elapsedMs(Object from, Object to) {
        cuStreamSynchronize(stream);
        float[] ms = new float[1];
        cuEventElapsedTime(ms, (CUevent) from, (CUevent) to);
        return ms[0];
    }

    @Override
    public void release(Object mark) {
        cuEventDestroy((CUevent) mark);
    }

    @Override
    public void close() {
        cuCtxSetCurrent(context);
        cuStreamSynchronize(stream);
        for (DevPtr p : allocations.values()) cuMemFree(p);
        allocations.clear();
        cuStreamDestroy(stream);
        cuModuleUnload(module);
        cuDevicePrimaryCtxRelease(device);
    }
}
