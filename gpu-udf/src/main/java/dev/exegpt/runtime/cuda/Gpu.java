package dev.exegpt.runtime.cuda;

/**
 * What {@link CudaOps} needs of a GPU: allocations and copies by 64-bit device address, kernel launches on one
 * stream, and event marks. {@link CudaDevice} is the real one (JCuda, driver API); the tests add a fake whose memory
 * is host arrays and whose kernels are the reference kernels, which runs CudaOps's orchestration (offsets, metadata,
 * launch arguments) on a machine without a GPU.
 */
interface Gpu extends AutoCloseable {
    String name();

    int index();

    /** A device allocation of bytes; its address. */
    long alloc(long bytes);

    void free(long address);

    long allocatedBytes();

    /** Free and total device memory, bytes. */
    long[] memoryInfo();

    /** Makes the device current on the calling thread. */
    void bind();

    /** Host to device, synchronous and ordered after the stream's earlier work. */
    void copyIn(long dst, long[] a, int len);

    void copyIn(long dst, float[] a, int off, int len);

    void copyIn(long dst, int[] a, int len);

    /** Device to host once the stream's work is done. */
    void copyOut(float[] a, int off, long src, int len);

    void copyOut(long[] a, long src, int len);

    /** Device to device, on the stream. */
    void copyAsync(long dst, long src, long bytes);

    /** Waits for the stream. */
    void sync();

    /** Launches a kernel on the stream; arguments are boxed int, float or long (device addresses are longs). */
    void launch(String kernel, LaunchGeometry g, Object... args);

    /** An event recorded on the stream now. */
    Object mark();

    /** Milliseconds between two completed marks; releases neither. */
    float elapsedMs(Object from, Object to);

    void release(Object mark);

    @Override
    void close();
}
