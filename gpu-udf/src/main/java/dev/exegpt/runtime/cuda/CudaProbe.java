package dev.exegpt.runtime.cuda;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * Whether the CUDA backend can run here, asked once per JVM and cached (DESIGN.md §6): JCuda's native library must
 * load (it needs the driver's {@code libcuda.so.1}; without it the first JCuda call throws UnsatisfiedLinkError),
 * {@code cuInit} must succeed, at least one device must answer, the build must have compiled the PTX, and the driver
 * must load it (a driver older than the nvcc that built the PTX refuses its ISA version).
 */
public final class CudaProbe {
    private CudaProbe() {}

    /**
     * The answer.
     *
     * @param available whether the CUDA backend can run
     * @param reason why not (or a one-line description of the devices when it can)
     * @param numDevices devices that answered
     */
    public record Result(boolean available, String reason, int numDevices) {}

    private static volatile Result cached;

    /** Probes on the first call; later calls return the same answer. */
    public static Result probe() {
        Result r = cached;
        if (r == null) {
            synchronized (CudaProbe.class) {
                if (cached == null) cached = run();
                r = cached;
            }
        }
        return r;
    }

    private static Result run() {
        String ptx = Ptx.load();
        int count;
        String names;
        try {
            JCudaDriver.setExceptionsEnabled(true);
            JCudaDriver.cuInit(0);
            int[] n = new int[1];
            JCudaDriver.cuDeviceGetCount(n);
            count = n[0];
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < count; i++) {
                CUdevice d = new CUdevice();
                JCudaDriver.cuDeviceGet(d, i);
                byte[] name = new byte[256];
                JCudaDriver.cuDeviceGetName(name, name.length, d);
                if (i > 0) sb.append(", ");
                sb.append(i).append(": ").append(cString(name));
            }
            names = sb.toString();
        } catch (LinkageError e) {
            return new Result(false, "JCuda's native library did not load (" + firstLine(e) + "): no CUDA driver"
                    + " (libcuda.so.1) on this machine", 0);
        } catch (RuntimeException e) {
            return new Result(false, "the CUDA driver did not initialise: " + firstLine(e), 0);
        }
        if (count == 0) return new Result(false, "the CUDA driver reports no device", 0);
        if (ptx == null) {
            return new Result(false, "this build has no PTX (" + Ptx.RESOURCE + "): nvcc was absent when gpu-udf was"
                    + " built; rebuild where nvcc is on the PATH", count);
        }
        String loadFailure = loadModuleOnDevice0(ptx);
        if (loadFailure != null) {
            return new Result(false, "the CUDA driver cannot load this build's kernels (" + loadFailure + "); the driver"
                    + " must support PTX ISA " + Ptx.version(ptx) + " (that of the nvcc that built gpu-udf)", count);
        }
        return new Result(true, count + " CUDA device(s): " + names, count);
    }

    /** Loads the PTX into device 0's primary context and unloads it: null when it loads, else why not. */
    private static String loadModuleOnDevice0(String ptx) {
        CUdevice d = new CUdevice();
        CUcontext ctx = new CUcontext();
        boolean retained = false;
        try {
            JCudaDriver.cuDeviceGet(d, 0);
            JCudaDriver.cuDevicePrimaryCtxRetain(ctx, d);
            retained = true;
            JCudaDriver.cuCtxSetCurrent(ctx);
            CUmodule m = new CUmodule();
            byte[] image = java.util.Arrays.copyOf(ptx.getBytes(java.nio.charset.StandardCharsets.US_ASCII), ptx.length() + 1);
            JCudaDriver.cuModuleLoadData(m, image);
            JCudaDriver.cuModuleUnload(m);
            return null;
        } catch (RuntimeException e) {
            return firstLine(e);
        } finally {
            if (retained) JCudaDriver.cuDevicePrimaryCtxRelease(d);
        }
    }

    private static String firstLine(Throwable e) {
        String m = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
