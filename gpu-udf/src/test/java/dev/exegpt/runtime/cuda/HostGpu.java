package dev.exegpt.runtime.cuda;

import dev.exegpt.runtime.kernel.ReferenceKernels;
import java.util.Map;
import java.util.TreeMap;

/**
 * A fake GPU whose device memory is host arrays and whose kernels are the reference kernels: each launch of a
 * kernel of {@code exegpt_kernels.cu} reads its operands at the given device addresses, runs the operation with
 * {@link ReferenceKernels} (the oracle every kernel is tested against), and writes the result back. Floats live in one
 * array per allocation at made-up 64-bit addresses; the integers the kernels read (per-row metadata, bucket maps,
 * the argmax results) are kept by address beside them. So {@link CudaOps}'s orchestration (weights and parameters
 * resident, the step arena, the pool and {@link StateLayout} offsets, {@link StepMeta}, launch arguments and
 * {@link LaunchGeometry}) runs on a machine without a GPU and is compared with the CPU backend. It says nothing
 * about the CUDA code itself, which only a GPU run checks.
 */
final class HostGpu implements Gpu {
    private static final ReferenceKernels K = new ReferenceKernels();

    private final TreeMap<Long, float[]> memory = new TreeMap<>();
    private final Map<Long, Long> words = new TreeMap<>();             // address -> long or int value
    private long next = 1L << 32;
    private long allocatedBytes;
    /** Host-device traffic and waits, counted: what a step costs the host. */
    int numCopiesIn;
    int numCopiesOut;
    int numSyncs;

    /** A float array and the index of an address in it. */
    private record At(float[] a, int i) {}

    private At at(long address, long floats) {
        Map.Entry<Long, float[]> e = memory.floorEntry(address);
        long off = e == null ? -1 : (address - e.getKey()) / 4;
        if (e == null || (address - e.getKey()) % 4 != 0 || off + floats > e.getValue().length) {
            throw new IllegalArgumentException("address " + address + " (+" + floats + " floats) is outside every allocation");
        }
        return new At(e.getValue(), (int) off);
    }

    private float[] read(long address, long floats) {
        At s = at(address, floats);
        float[] v = new float[(int) floats];
        System.arraycopy(s.a(), s.i(), v, 0, v.length);
        return v;
    }

    private void write(long address, float[] v) {
        At d = at(address, v.length);
        System.arraycopy(v, 0, d.a(), d.i(), v.length);
    }

    private long word(long address) {
        Long v = words.get(address);
        if (v == null) throw new IllegalArgumentException("no integer was written at " + address);
        return v;
    }

    @Override public String name() { return "host arrays with the reference kernels"; }

    @Override public int index() { return 0; }

    @Override
    public long alloc(long bytes) {
        long floats = Math.max(1, (bytes + 3) / 4);
        long at = next;
        memory.put(at, new float[Math.toIntExact(floats)]);
        next += (4 * floats + 255) / 256 * 256 + 256;                    // aligned, with a gap: overruns hit no neighbour
        allocatedBytes += 4 * floats;
        return at;
    }

    @Override
    public void free(long address) {
        float[] a = memory.remove(address);
        if (a == null) throw new IllegalArgumentException("no allocation at " + address);
        allocatedBytes -= 4L * a.length;
    }

    @Override public long allocatedBytes() { return allocatedBytes; }

    @Override public long[] memoryInfo() { return new long[] {1L << 30, 1L << 30}; }

    @Override public void bind() {}

    @Override
    public void copyIn(long dst, long[] a, int len) {
        numCopiesIn++;
        at(dst, 2L * len);
        for (int i = 0; i < len; i++) words.put(dst + 8L * i, a[i]);
    }

    @Override
    public void copyIn(long dst, float[] a, int off, int len) {
        numCopiesIn++;
        At d = at(dst, len);
        System.arraycopy(a, off, d.a(), d.i(), len);
    }

    @Override
    public void copyIn(long dst, int[] a, int len) {
        numCopiesIn++;
        at(dst, len);
        for (int i = 0; i < len; i++) words.put(dst + 4L * i, (long) a[i]);
    }

    @Override
    public void copyOut(float[] a, int off, long src, int len) {
        numCopiesOut++;
        At s = at(src, len);
        System.arraycopy(s.a(), s.i(), a, off, len);
    }

    @Override
    public void copyOut(long[] a, long src, int len) {
        numCopiesOut++;
        for (int i = 0; i < len; i++) a[i] = word(src + 8L * i);
    }

    @Override
    public void copyAsync(long dst, long src, long bytes) {
        write(dst, read(src, bytes / 4));
    }

    @Override public void sync() { numSyncs++; }

    @Override public Object mark() { return System.nanoTime(); }

    @Override public float elapsedMs(Object from, Object to) { return ((Long) to - (Long) from) / 1e6f; }

    @Override public void release(Object mark) {}

    @Override public void close() { memory.clear(); }

    private static long p(Object o) { return (Long) o; }

    private static int n(Object o) { return (Integer) o; }

    private static float x(Object o) { return (Float) o; }

    /** Runs the kernel's operation; the arguments are those CudaOps passes, in the kernel's order. */
    @Override
    public void launch(String kernel, LaunchGeometry g, Object... a) {
        switch (kernel) {
            case "matmul_f32", "matmul_f32_large", "matmul_skinny" -> matmul(a);
            case "layer_norm" -> {                        // (out, x, weight, bias, rows, dim, eps)
                int rows = n(a[4]), dim = n(a[5]);
                float[] out = new float[rows * dim];
                K.layerNorm(out, read(p(a[1]), out.length), read(p(a[2]), dim), read(p(a[3]), dim), rows, dim, x(a[6]));
                write(p(a[0]), out);
            }
            case "rms_norm" -> {                          // (out, x, weight, rows, dim, eps, scale)
                int rows = n(a[3]), dim = n(a[4]);
                float[] out = new float[rows * dim];
                K.rmsNorm(out, read(p(a[1]), out.length), read(p(a[2]), dim), rows, dim, x(a[5]));
                if (x(a[6]) != 1f) for (int i = 0; i < out.length; i++) out[i] *= x(a[6]);
                write(p(a[0]), out);
            }
            case "relu", "gelu", "silu" -> {             // (x, len)
                float[] v = read(p(a[0]), p(a[1]));
                switch (kernel) {
                    case "relu" -> K.relu(v, v.length);
                    case "gelu" -> K.gelu(v, v.length);
                    default -> { for (int i = 0; i < v.length; i++) v[i] = v[i] / (1f + (float) Math.exp(-v[i])); }
                }
                write(p(a[0]), v);
            }
            case "mul", "add", "gelu_mul", "silu_mul" -> {   // (x, y, len)
                float[] v = read(p(a[0]), p(a[2]));
                float[] y = read(p(a[1]), p(a[2]));
                switch (kernel) {
                    case "add" -> K.add(v, y, v.length);
                    case "gelu_mul" -> K.gelu(v, v.length);
                    case "silu_mul" -> { for (int i = 0; i < v.length; i++) v[i] = v[i] / (1f + (float) Math.exp(-v[i])); }
                    default -> { }
                }
                if (!kernel.equals("add")) K.mul(v, y, v.length);
                write(p(a[0]), v);
            }
            case "scale" -> {                             // (x, s, len)
                float[] v = read(p(a[0]), p(a[2]));
                for (int i = 0; i < v.length; i++) v[i] *= x(a[1]);
                write(p(a[0]), v);
            }
            case "embedding" -> embedding(a);
            case "gather_rows" -> {                       // (out, x, idx, n, dim)
                int rows = n(a[3]), dim = n(a[4]);
                for (int r = 0; r < rows; r++) {
                    write(p(a[0]) + 4L * r * dim, read(p(a[1]) + 4 * word(p(a[2]) + 8L * r) * dim, dim));
                }
            }
            case "argmax_rows" -> {                       // (out, x, rows, len)
                int rows = n(a[2]), len = n(a[3]);
                float[] v = read(p(a[1]), (long) rows * len);
                for (int r = 0; r < rows; r++) words.put(p(a[0]) + 8L * r, (long) K.argmax(v, r * len, len));
            }
            case "write_kv" -> writeKv(a);
            case "rope" -> rope(a);
            case "attention" -> attention(a);
            default -> throw new UnsupportedOperationException("kernel " + kernel + " has no host version here");
        }
    }

    /** (C, A, W, bias, m, n, k, lda, accumulate): C (m, n) [+]= A (m, k) @ W (n, k)^T + bias. */
    private void matmul(Object[] a) {
        int m = n(a[4]), nn = n(a[5]), k = n(a[6]);
        if (n(a[7]) != k) throw new IllegalArgumentException("lda " + a[7] + " != k " + k);
        float[] out = new float[m * nn];
        K.linear(out, read(p(a[1]), (long) m * k), K.prepare(read(p(a[2]), (long) nn * k), nn, k),
                p(a[3]) == 0 ? null : read(p(a[3]), nn), m);
        if (n(a[8]) != 0) K.add(out, read(p(a[0]), out.length), out.length);
        write(p(a[0]), out);
    }

    /** (out, table, ids, positions, posIds, rows, dim). */
    private void embedding(Object[] a) {
        int rows = n(a[5]), dim = n(a[6]);
        for (int r = 0; r < rows; r++) {
            float[] row = read(p(a[1]) + 4 * word(p(a[2]) + 8L * r) * dim, dim);
            if (p(a[3]) != 0) K.add(row, read(p(a[3]) + 4 * word(p(a[4]) + 8L * r) * dim, dim), dim);
            write(p(a[0]) + 4L * r * dim, row);
        }
    }

    /** (pool, k, v, kBase, vBase, layerStride, qpos, layer, rows, width). */
    private void writeKv(Object[] a) {
        int layer = n(a[7]), rows = n(a[8]), width = n(a[9]);
        for (int r = 0; r < rows; r++) {
            long off = layer * word(p(a[5]) + 8L * r) + word(p(a[6]) + 8L * r) * width;
            write(p(a[0]) + 4 * (word(p(a[3]) + 8L * r) + off), read(p(a[1]) + 4L * r * width, width));
            write(p(a[0]) + 4 * (word(p(a[4]) + 8L * r) + off), read(p(a[2]) + 4L * r * width, width));
        }
    }

    /** (x, qpos, invFreq, rows, numHeads, headDim): transformers' rotate_half at each row's position. */
    private void rope(Object[] a) {
        int rows = n(a[3]), heads = n(a[4]), hd = n(a[5]), half = hd / 2;
        float[] invFreq = read(p(a[2]), half);
        for (int r = 0; r < rows; r++) {
            long pos = word(p(a[1]) + 8L * r);
            for (int h = 0; h < heads; h++) {
                long at = p(a[0]) + 4L * ((long) r * heads + h) * hd;
                float[] v = read(at, hd);
                for (int j = 0; j < half; j++) {
                    float angle = pos * invFreq[j];
                    float c = (float) Math.cos(angle);
                    float s = (float) Math.sin(angle);
                    float x1 = v[j];
                    float x2 = v[j + half];
                    v[j] = x1 * c - x2 * s;
                    v[j + half] = x2 * c + x1 * s;
                }
                write(at, v);
            }
        }
    }

    /**
     * (out, q, K, V, kBase, vBase, layerStride, numKeys, qpos, layer, rows, numHeads, numKvHeads, headDim, kvStride,
     * scale, biasTable, lut, maxDistance): one reference attention call per (row, query head), over the key/value
     * head that serves it, with T5's bias when a table is given.
     */
    private void attention(Object[] a) {
        int layer = n(a[9]), rows = n(a[10]), heads = n(a[11]), kvHeads = n(a[12]), hd = n(a[13]);
        int kvStride = n(a[14]), maxDistance = n(a[18]);
        float scale = x(a[15]);
        long table = p(a[16]);
        for (int r = 0; r < rows; r++) {
            long ls = p(a[6]) == 0 ? 0 : layer * word(p(a[6]) + 8L * r);
            int numKeys = (int) word(p(a[7]) + 8L * r);
            int pos = (int) word(p(a[8]) + 8L * r);
            for (int h = 0; h < heads; h++) {
                long kvHead = h / (heads / kvHeads);
                long span = (long) (numKeys - 1) * kvStride + hd;
                At keys = at(p(a[2]) + 4 * (word(p(a[4]) + 8L * r) + ls + kvHead * hd), span);
                At values = at(p(a[3]) + 4 * (word(p(a[5]) + 8L * r) + ls + kvHead * hd), span);
                if (keys.i() != values.i() || keys.a() != values.a()) {
                    // keys and values at different offsets (the pool): read values into an array aligned with the keys
                    values = new At(alignedCopy(values, keys, span), keys.i());
                }
                float[] bias = null;
                if (table != 0) {
                    bias = new float[numKeys];
                    for (int t = 0; t < numKeys; t++) {
                        int d = Math.max(-maxDistance, Math.min(maxDistance, t - pos));
                        int bucket = (int) word(p(a[17]) + 4L * (d + maxDistance));
                        bias[t] = read(table + 4L * ((long) bucket * heads + h), 1)[0];
                    }
                }
                At q = at(p(a[1]) + 4L * ((long) r * heads + h) * hd, hd);
                float[] out = new float[hd];
                K.attention(out, 0, q.a(), q.i(), keys.a(), values.a(), keys.i(), kvStride, numKeys, hd, scale, bias,
                        0, new float[numKeys]);
                write(p(a[0]) + 4L * ((long) r * heads + h) * hd, out);
            }
        }
    }

    /** The floats of v's span in an array where they start at k's index (the reference kernel reads both there). */
    private static float[] alignedCopy(At v, At k, long span) {
        float[] copy = new float[k.i() + (int) span];
        System.arraycopy(v.a(), v.i(), copy, k.i(), (int) span);
        return copy;
    }
}
