package dev.exegpt.runtime.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.TreeMap;

/**
 * A GPU for machines without one: device memory is heap buffers at made-up 64-bit addresses, and each kernel of
 * {@code exegpt_kernels.cu} that {@link CudaModel} launches is re-stated here in plain Java with the same arguments
 * and the same arithmetic per output element (one thread's work, in order; block reductions summed in index order).
 * It checks what a GPU-less machine can: CudaModel's orchestration (offsets into the pool, per-row metadata, launch
 * order, argument order and types) against the CPU engine. It does not check the CUDA code itself.
 */
final class EmulatedGpu implements Gpu {
    private final TreeMap<Long, ByteBuffer> memory = new TreeMap<>();
    private long next = 1L << 32;
    private long allocatedBytes;
    int numLaunches;
    /** Host-device traffic and waits, counted: what a step costs the host. */
    int numCopiesIn;
    int numCopiesOut;
    int numSyncs;

    @Override
    public String name() { return "emulated GPU (plain Java)"; }

    @Override
    public int index() { return 0; }

    @Override
    public long alloc(long bytes) {
        long n = Math.max(4, bytes);
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("emulated allocation of " + n + " bytes");
        long at = next;
        memory.put(at, ByteBuffer.allocate((int) n).order(ByteOrder.LITTLE_ENDIAN));
        next += (n + 255) / 256 * 256 + 256;                       // aligned, with a gap: overruns hit no neighbour
        allocatedBytes += n;
        return at;
    }

    @Override
    public void free(long address) {
        ByteBuffer b = memory.remove(address);
        if (b == null) throw new IllegalArgumentException("no allocation at " + address);
        allocatedBytes -= b.capacity();
    }

    @Override
    public long allocatedBytes() { return allocatedBytes; }

    @Override
    public long[] memoryInfo() { return new long[] {1L << 30, 1L << 30}; }

    @Override
    public void bind() {}

    /** The buffer an address falls in and the byte offset there; fails on an address outside every allocation. */
    private record At(ByteBuffer b, int off) {
        float f(long i) { return b.getFloat(off + (int) (4 * i)); }

        void f(long i, float v) { b.putFloat(off + (int) (4 * i), v); }

        long l(long i) { return b.getLong(off + (int) (8 * i)); }

        void l(long i, long v) { b.putLong(off + (int) (8 * i), v); }

        int i(long i) { return b.getInt(off + (int) (4 * i)); }
    }

    private At at(long address) {
        Map.Entry<Long, ByteBuffer> e = memory.floorEntry(address);
        if (e == null || address - e.getKey() >= e.getValue().capacity()) {
            throw new IllegalArgumentException("address " + address + " is outside every allocation");
        }
        return new At(e.getValue(), (int) (address - e.getKey()));
    }

    @Override
    public void copyIn(long dst, long[] a, int len) {
        numCopiesIn++;
        At d = at(dst);
        for (int i = 0; i < len; i++) d.l(i, a[i]);
    }

    @Override
    public void copyIn(long dst, float[] a, int off, int len) {
        numCopiesIn++;
        At d = at(dst);
        for (int i = 0; i < len; i++) d.f(i, a[off + i]);
    }

    @Override
    public void copyIn(long dst, int[] a, int len) {
        numCopiesIn++;
        At d = at(dst);
        for (int i = 0; i < len; i++) d.b.putInt(d.off + 4 * i, a[i]);
    }

    @Override
    public void copyOut(float[] a, int off, long src, int len) {
        numCopiesOut++;
        At s = at(src);
        for (int i = 0; i < len; i++) a[off + i] = s.f(i);
    }

    @Override
    public void copyOut(long[] a, long src, int len) {
        numCopiesOut++;
        At s = at(src);
        for (int i = 0; i < len; i++) a[i] = s.l(i);
    }

    @Override
    public void copyAsync(long dst, long src, long bytes) {
        At d = at(dst);
        At s = at(src);
        if (d.off + bytes > d.b.capacity() || s.off + bytes > s.b.capacity()) {
            throw new IllegalArgumentException("copy of " + bytes + " bytes runs past an allocation");
        }
        System.arraycopy(s.b.array(), s.off, d.b.array(), d.off, (int) bytes);
    }

    @Override
    public void sync() {
        numSyncs++;
    }

    @Override
    public Object mark() { return System.nanoTime(); }

    @Override
    public float elapsedMs(Object from, Object to) { return ((Long) to - (Long) from) / 1e6f; }

    @Override
    public void release(Object mark) {}

    @Override
    public void close() { memory.clear(); }

    private static long p(Object o) { return (Long) o; }

    private static int n(Object o) { return (Integer) o; }

    private static float x(Object o) { return (Float) o; }

    @Override
    public void launch(String kernel, LaunchGeometry g, Object... a) {
        numLaunches++;
        switch (kernel) {
            case "matmul_f32", "matmul_f32_large", "matmul_skinny" -> matmul(a);
            case "layer_norm" -> layerNorm(a);
            case "rms_norm" -> rmsNorm(a);
            case "relu" -> { At v = at(p(a[0])); for (long i = 0; i < p(a[1]); i++) v.f(i, Math.max(v.f(i), 0f)); }
            case "gelu" -> { At v = at(p(a[0])); for (long i = 0; i < p(a[1]); i++) v.f(i, gelu(v.f(i))); }
            case "silu" -> { At v = at(p(a[0])); for (long i = 0; i < p(a[1]); i++) v.f(i, v.f(i) / (1f + (float) Math.exp(-v.f(i)))); }
            case "scale" -> { At v = at(p(a[0])); for (long i = 0; i < p(a[2]); i++) v.f(i, v.f(i) * x(a[1])); }
            case "mul" -> {
                At v = at(p(a[0]));
                At y = at(p(a[1]));
                for (long i = 0; i < p(a[2]); i++) v.f(i, v.f(i) * y.f(i));
            }
            case "rope" -> rope(a);
            case "gelu_mul" -> {
                At v = at(p(a[0]));
                At gate = at(p(a[1]));
                for (long i = 0; i < p(a[2]); i++) v.f(i, gelu(v.f(i)) * gate.f(i));
            }
            case "embedding" -> embedding(a);
            case "gather_rows" -> {
                At out = at(p(a[0]));
                At idx = at(p(a[2]));
                int rows = n(a[3]);
                int dim = n(a[4]);
                for (int r = 0; r < rows; r++) {
                    At src = at(p(a[1]) + 4 * idx.l(r) * dim);
                    for (int i = 0; i < dim; i++) out.f((long) r * dim + i, src.f(i));
                }
            }
            case "argmax_rows" -> {
                At out = at(p(a[0]));
                At v = at(p(a[1]));
                int rows = n(a[2]);
                int len = n(a[3]);
                for (int r = 0; r < rows; r++) {
                    int best = 0;
                    for (int i = 1; i < len; i++) if (v.f((long) r * len + i) > v.f((long) r * len + best)) best = i;
                    out.l(r, best);
                }
            }
            case "write_kv" -> writeKv(a);
            case "attention" -> attention(a);
            default -> throw new UnsupportedOperationException("kernel " + kernel + " is not emulated");
        }
    }

    private static float gelu(float v) {
        final float c = 0.7978845608028654f;
        return 0.5f * v * (1f + (float) Math.tanh(c * (v + 0.044715f * v * v * v)));
    }

    /** matmul_f32 / _large / _skinny(C, A, W, bias, m, n, k, lda, accumulate). */
    private void matmul(Object[] a) {
        At c = at(p(a[0]));
        At x = at(p(a[1]));
        At w = at(p(a[2]));
        At bias = p(a[3]) == 0 ? null : at(p(a[3]));
        int m = n(a[4]), nn = n(a[5]), k = n(a[6]), lda = n(a[7]);
        boolean acc = n(a[8]) != 0;
        float[] row = new float[k];
        float[] wrow = new float[k];
        for (int r = 0; r < m; r++) {
            for (int i = 0; i < k; i++) row[i] = x.f((long) r * lda + i);
            for (int col = 0; col < nn; col++) {
                for (int i = 0; i < k; i++) wrow[i] = w.f((long) col * k + i);   // (re-read: the emulation is slow, not clever)
                float s = 0f;
                for (int i = 0; i < k; i++) s = Math.fma(row[i], wrow[i], s);
                if (bias != null) s += bias.f(col);
                long at = (long) r * nn + col;
                c.f(at, acc ? c.f(at) + s : s);
            }
        }
    }

    /** layer_norm(out, x, weight, bias, rows, dim, eps). */
    private void layerNorm(Object[] a) {
        At out = at(p(a[0])), x = at(p(a[1])), w = at(p(a[2])), b = at(p(a[3]));
        int rows = n(a[4]), dim = n(a[5]);
        float eps = x(a[6]);
        for (int r = 0; r < rows; r++) {
            float s = 0f;
            for (int i = 0; i < dim; i++) s += x.f((long) r * dim + i);
            float mean = s / dim;
            float v = 0f;
            for (int i = 0; i < dim; i++) {
                float d = x.f((long) r * dim + i) - mean;
                v += d * d;
            }
            float inv = (float) (1.0 / Math.sqrt(v / dim + eps));
            for (int i = 0; i < dim; i++) out.f((long) r * dim + i, (x.f((long) r * dim + i) - mean) * inv * w.f(i) + b.f(i));
        }
    }

    /** rms_norm(out, x, weight, rows, dim, eps, scale). */
    private void rmsNorm(Object[] a) {
        At out = at(p(a[0])), x = at(p(a[1])), w = at(p(a[2]));
        int rows = n(a[3]), dim = n(a[4]);
        float eps = x(a[5]), scale = x(a[6]);
        for (int r = 0; r < rows; r++) {
            float s = 0f;
            for (int i = 0; i < dim; i++) s += x.f((long) r * dim + i) * x.f((long) r * dim + i);
            float inv = (float) (1.0 / Math.sqrt(s / dim + eps));
            for (int i = 0; i < dim; i++) {
                float v = x.f((long) r * dim + i) * inv * w.f(i);
                out.f((long) r * dim + i, scale == 1f ? v : v * scale);
            }
        }
    }

    /** embedding(out, table, ids, positions, posIds, rows, dim). */
    private void embedding(Object[] a) {
        At out = at(p(a[0]));
        At ids = at(p(a[2]));
        boolean hasPositions = p(a[3]) != 0;
        At posIds = at(p(a[4]));
        int rows = n(a[5]), dim = n(a[6]);
        for (int r = 0; r < rows; r++) {
            At e = at(p(a[1]) + 4 * ids.l(r) * dim);
            At pos = hasPositions ? at(p(a[3]) + 4 * posIds.l(r) * dim) : null;
            for (int i = 0; i < dim; i++) out.f((long) r * dim + i, pos == null ? e.f(i) : e.f(i) + pos.f(i));
        }
    }

    /** rope(x, qpos, invFreq, rows, numHeads, headDim). */
    private void rope(Object[] a) {
        At x = at(p(a[0])), qpos = at(p(a[1])), invFreq = at(p(a[2]));
        int rows = n(a[3]), heads = n(a[4]), hd = n(a[5]);
        int half = hd / 2;
        for (int r = 0; r < rows; r++) {
            float pos = qpos.l(r);
            for (int h = 0; h < heads; h++) {
                long off = ((long) r * heads + h) * hd;
                for (int j = 0; j < half; j++) {
                    float angle = pos * invFreq.f(j);
                    float c = (float) Math.cos(angle);
                    float sn = (float) Math.sin(angle);
                    float x1 = x.f(off + j);
                    float x2 = x.f(off + j + half);
                    x.f(off + j, x1 * c - x2 * sn);
                    x.f(off + j + half, x2 * c + x1 * sn);
                }
            }
        }
    }

    /** write_kv(pool, k, v, kBase, vBase, layerStride, qpos, layer, rows, inner). */
    private void writeKv(Object[] a) {
        long pool = p(a[0]);
        At k = at(p(a[1])), v = at(p(a[2])), kBase = at(p(a[3])), vBase = at(p(a[4])), stride = at(p(a[5])), qpos = at(p(a[6]));
        int layer = n(a[7]), rows = n(a[8]), inner = n(a[9]);
        for (int r = 0; r < rows; r++) {
            long off = layer * stride.l(r) + qpos.l(r) * inner;
            At kd = at(pool + 4 * (kBase.l(r) + off));
            At vd = at(pool + 4 * (vBase.l(r) + off));
            for (int i = 0; i < inner; i++) {
                kd.f(i, k.f((long) r * inner + i));
                vd.f(i, v.f((long) r * inner + i));
            }
        }
    }

    /**
     * attention(out, q, K, V, kBase, vBase, layerStride, numKeys, qpos, layer, rows, numHeads, numKvHeads, headDim,
     * kvStride, scale, biasTable, lut, maxDistance).
     */
    private void attention(Object[] a) {
        At out = at(p(a[0])), q = at(p(a[1]));
        long keys = p(a[2]), values = p(a[3]);
        At kBase = at(p(a[4])), vBase = at(p(a[5]));
        At stride = p(a[6]) == 0 ? null : at(p(a[6]));
        At numKeys = at(p(a[7])), qpos = at(p(a[8]));
        int layer = n(a[9]), rows = n(a[10]), heads = n(a[11]), kvHeads = n(a[12]), hd = n(a[13]), kvStride = n(a[14]);
        float scale = x(a[15]);
        At table = p(a[16]) == 0 ? null : at(p(a[16]));
        At lut = p(a[17]) == 0 ? null : at(p(a[17]));
        int maxDistance = n(a[18]);
        int inner = heads * hd;
        for (int r = 0; r < rows; r++) {
            long ls = stride == null ? 0 : layer * stride.l(r);
            int nk = (int) numKeys.l(r);
            int pos = (int) qpos.l(r);
            for (int h = 0; h < heads; h++) {
                long kh = h / (heads / kvHeads);
                At kr = at(keys + 4 * (kBase.l(r) + ls + kh * hd));
                At vr = at(values + 4 * (vBase.l(r) + ls + kh * hd));
                float[] scores = new float[nk];
                float m = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < nk; t++) {
                    float s = 0f;
                    for (int e = 0; e < hd; e++) s = Math.fma(q.f((long) r * inner + (long) h * hd + e), kr.f((long) t * kvStride + e), s);
                    s *= scale;
                    if (table != null) {
                        int d = Math.max(-maxDistance, Math.min(maxDistance, t - pos));
                        s += table.f((long) lut.i(d + maxDistance) * heads + h);
                    }
                    scores[t] = s;
                    m = Math.max(m, s);
                }
                float sum = 0f;
                for (int t = 0; t < nk; t++) {
                    scores[t] = (float) Math.exp(scores[t] - m);
                    sum += scores[t];
                }
                float inv = 1f / sum;
                for (int e = 0; e < hd; e++) {
                    float acc = 0f;
                    for (int t = 0; t < nk; t++) acc = Math.fma(scores[t], vr.f((long) t * kvStride + e), acc);
                    out.f((long) r * inner + (long) h * hd + e, acc * inv);
                }
            }
        }
    }
}
