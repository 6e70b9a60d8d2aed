package dev.exegpt.runtime.kernel;

import dev.exegpt.runtime.weights.DType;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * CPU kernels on the Vector API ({@code jdk.incubator.vector}), with {@link #linear} blocked and split over
 * {@code numThreads} threads (the caller plus a private {@link ThreadTeam}). An instance with one thread stands for
 * one device of a pipeline stage. One thread calls an instance at a time. Close it to stop its team.
 */
public final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Below this many multiply-adds, a matmul runs on the calling thread only (hand-off would cost more). */
    private static final long MIN_PARALLEL_MACS = 1L << 16;

    /**
     * Chunks of panels per thread for a product of few rows: a helper that starts late leaves its chunks to the others,
     * and the chunks shrink towards the end (see {@link #chunkStart}) so that the threads finish together. A product of
     * many rows gets one equal chunk per thread: its chunks write every row of out, and each boundary between two
     * threads' chunks shares a cache line per row (Java arrays are not line-aligned). Measured, 1024^3 on 2 threads,
     * 4 alternating runs: one chunk per thread 278-301 GFLOP/s, four 253-272.
     */
    private static final int CHUNKS_PER_THREAD = 4;

    private final int numThreads;
    private final ThreadTeam team;
    private final boolean ownsTeam;
    /** Each calling thread's reusable linear (a helper may call linear inside a loop of its own, as attention does). */
    private static final ThreadLocal<LinearTask> LINEAR_TASK = ThreadLocal.withInitial(LinearTask::new);

    /** Kernels that use numThreads threads (the caller and numThreads - 1 helpers of its team). */
    public VectorKernels(int numThreads) {
        if (numThreads < 1) {
            throw new IllegalArgumentException("numThreads=" + numThreads + ": must be at least 1");
        }
        this.numThreads = numThreads;
        this.team = new ThreadTeam(numThreads - 1, "vector-kernels");
        this.ownsTeam = true;
    }

    private VectorKernels(VectorKernels owner) {
        this.numThreads = owner.numThreads;
        this.team = owner.team;
        this.ownsTeam = false;
    }

    /**
     * Kernels on the threads of owner, for work that takes turns with it (a one-device engine's layers and its LM
     * head): one set of helper threads instead of two that spin against each other on the same cores (measured on 2
     * cores with two teams and a 1 ms spin: opt-base's batch-1 step went from 14 to 21 ms). Closing it leaves owner's
     * threads running.
     */
    public static VectorKernels sharingThreadsOf(VectorKernels owner) {
        return new VectorKernels(owner);
    }

    @Override public String name() { return "vector(" + numThreads + " thread" + (numThreads == 1 ? ")" : "s)"); }

    @Override public int numThreads() { return numThreads; }

    @Override
    public Matrix prepare(float[] w, int rows, int cols) {
        if (w.length != rows * cols) {
            throw new IllegalArgumentException("weight length " + w.length + " != rows " + rows + " * cols " + cols);
        }
        return new Matrix(VectorMatmul.pack(w, rows, cols), rows, cols, Matrix.Layout.PANELS);
    }

    @Override
    public Matrix prepare16(short[] bits, DType dtype, int rows, int cols) {
        if (bits.length != rows * cols) {
            throw new IllegalArgumentException("weight length " + bits.length + " != rows " + rows + " * cols " + cols);
        }
        return switch (dtype) {
            case BF16 -> new Matrix(null, VectorMatmul.pack16(bits, rows, cols, false), rows, cols, Matrix.Layout.PANELS_BF16);
            case F16 -> new Matrix(null, VectorMatmul.pack16(bits, rows, cols, true), rows, cols, Matrix.Layout.PANELS_F16);
            case F32 -> throw new IllegalArgumentException("F32 weights go through prepare(float[], ...)");
        };
    }

    @Override
    public void linear(float[] out, float[] a, Matrix w, float[] bias, int m) {
        LinearTask t = LINEAR_TASK.get();
        t.one(out, w, bias);
        run(t, t.oneOut, a, t.oneW, t.oneBias, m);
    }

    @Override
    public void linears(float[][] outs, float[] a, Matrix[] ws, float[][] biases, int m) {
        if (outs.length < ws.length || (biases != null && biases.length < ws.length)) {
            throw new IllegalArgumentException(ws.length + " matrices, " + outs.length + " outputs, "
                    + (biases == null ? "no" : String.valueOf(biases.length)) + " biases: need an output (and a bias or none) for each");
        }
        for (Matrix w : ws) {
            if (w.cols() != ws[0].cols()) {
                throw new IllegalArgumentException("linears of one input need matrices of equal cols: " + w.cols() + " != " + ws[0].cols());
            }
        }
        run(LINEAR_TASK.get(), outs, a, ws, biases, m);
    }

    /** One parallel loop over the panel groups of every matrix of ws, in turn. */
    private void run(LinearTask t, float[][] outs, float[] a, Matrix[] ws, float[][] biases, int m) {
        long macs = 0;
        int numGroups = 0;
        for (Matrix w : ws) {
            if (w.layout() == Matrix.Layout.ROW_MAJOR) {
                throw new IllegalArgumentException("vector linear needs a matrix in panels, got " + w.layout());
            }
            macs += (long) m * w.cols() * w.rows();
            numGroups += VectorMatmul.numPanelGroups(w.rows(), m, w.layout());
        }
        int perThread = m <= VectorMatmul.SMALL_M ? CHUNKS_PER_THREAD : 1;
        int chunks = macs < MIN_PARALLEL_MACS ? 1 : Math.min(numThreads * perThread, numGroups);
        t.set(outs, a, ws, biases, m, numGroups, chunks, chunks > numThreads);
        try {
            if (chunks == 1) t.accept(0);
            else team.run(chunks, t);
        } finally {
            t.clear();
        }
    }

    /**
     * The first of groups that chunk c of chunks starts at (c = chunks: the end). Shrinking chunks fall linearly in
     * size (chunks, chunks - 1, ..., 1 parts), so that the chunks taken last, while the other threads finish theirs,
     * are the smallest: on 2 threads at batch 1 the caller's wait for its helper at the end of a product went from
     * 5-11 us to 2-6 us (768-3072 x 768-3072 products of 25-110 us, equal chunks before). Otherwise they are equal.
     */
    static int chunkStart(int groups, int chunks, int c, boolean shrinking) {
        if (!shrinking) return (int) ((long) groups * c / chunks);
        long before = (long) c * chunks - (long) c * (c - 1) / 2;      // sum of (chunks - i) for i < c
        long total = (long) chunks * (chunks + 1) / 2;
        return (int) (groups * before / total);
    }

    /** One linear's (or linears') arguments, reused call after call so that a dispatch allocates nothing. */
    private static final class LinearTask implements IntConsumer {
        final float[][] oneOut = new float[1][];
        final Matrix[] oneW = new Matrix[1];
        final float[][] oneBias = new float[1][];
        private float[][] outs;
        private float[] a;
        private Matrix[] ws;
        private float[][] biases;
        private int m;
        private int numGroups;
        private int chunks;
        private boolean shrinking;

        void one(float[] out, Matrix w, float[] bias) {
            oneOut[0] = out;
            oneW[0] = w;
            oneBias[0] = bias;
        }

        void set(float[][] outs, float[] a, Matrix[] ws, float[][] biases, int m, int numGroups, int chunks,
                 boolean shrinking) {
            this.outs = outs;
            this.a = a;
            this.ws = ws;
            this.biases = biases;
            this.m = m;
            this.numGroups = numGroups;
            this.chunks = chunks;
            this.shrinking = shrinking;
        }

        void clear() {
            set(null, null, null, null, 0, 0, 0, false);
            one(null, null, null);
        }

        /** Chunk c: its share of the panel groups of the matrices taken one after another. */
        @Override
        public void accept(int c) {
            int g0 = chunkStart(numGroups, chunks, c, shrinking);
            int g1 = chunkStart(numGroups, chunks, c + 1, shrinking);
            int first = 0;                                              // the groups before matrix i
            for (int i = 0; i < ws.length && first < g1; i++) {
                Matrix w = ws[i];
                int n = w.rows();
                int groups = VectorMatmul.numPanelGroups(n, m, w.layout());
                int from = Math.max(g0, first) - first;
                int to = Math.min(g1, first + groups) - first;
                first += groups;
                if (from >= to) continue;
                int numPanels = VectorMatmul.numPanels(n);
                int group = VectorMatmul.panelGroup(m, w.layout());
                int jp0 = Math.min(numPanels, group * from);
                int jp1 = Math.min(numPanels, group * to);
                float[] bias = biases == null ? null : biases[i];
                switch (w.layout()) {
                    case PANELS -> VectorMatmul.multiply(outs[i], a, w.data(), bias, m, w.cols(), n, jp0, jp1);
                    case PANELS_BF16 -> VectorMatmul.multiply16(outs[i], a, w.pairs(), true, bias, m, w.cols(), n, jp0, jp1);
                    case PANELS_F16 -> VectorMatmul.multiply16(outs[i], a, w.pairs(), false, bias, m, w.cols(), n, jp0, jp1);
                    default -> throw new IllegalStateException(w.layout().name());
                }
            }
        }
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int upper = F.loopBound(len); i < upper; i += L) {                 // vector body
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) sum += a[aOff + i] * b[bOff + i];                  // tail, scalar
        return sum;
    }

    private static float sumOfSquares(float[] x, int off, int len) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int upper = F.loopBound(len); i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            acc = v.fma(v, acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) sum += x[off + i] * x[off + i];
        return sum;
    }

    private static float sum(float[] x, int off, int len) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int upper = F.loopBound(len); i < upper; i += L) acc = acc.add(FloatVector.fromArray(F, x, off + i));
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) sum += x[off + i];
        return sum;
    }

    /** out[off..off+len) = (x[off..] + shift) * scale * weight[0..len) (+ bias[0..len) when not null). */
    private static void scaleRow(float[] out, float[] x, int off, int len, float shift, float scale,
                                 float[] weight, float[] bias) {
        int i = 0;
        for (int upper = F.loopBound(len); i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i).add(shift).mul(scale)
                    .mul(FloatVector.fromArray(F, weight, i));
            if (bias != null) v = v.add(FloatVector.fromArray(F, bias, i));
            v.intoArray(out, off + i);
        }
        for (; i < len; i++) out[off + i] = (x[off + i] + shift) * scale * weight[i] + (bias == null ? 0f : bias[i]);
    }

    @Override
    public void rmsNorm(float[] out, float[] x, float[] weight, int rows, int dim, float eps) {
        for (int r = 0; r < rows; r++) {
            float inv = (float) (1.0 / Math.sqrt(sumOfSquares(x, r * dim, dim) / dim + eps));
            scaleRow(out, x, r * dim, dim, 0f, inv, weight, null);
        }
    }

    @Override
    public void layerNorm(float[] out, float[] x, float[] weight, float[] bias, int rows, int dim, float eps) {
        for (int r = 0; r < rows; r++) {
            int off = r * dim;
            float mean = sum(x, off, dim) / dim;
            FloatVector acc = FloatVector.zero(F);
            int i = 0;
            for (int upper = F.loopBound(dim); i < upper; i += L) {
                FloatVector d = FloatVector.fromArray(F, x, off + i).sub(mean);
                acc = d.fma(d, acc);
            }
            float var = acc.reduceLanes(VectorOperators.ADD);
            for (; i < dim; i++) var += (x[off + i] - mean) * (x[off + i] - mean);
            float inv = (float) (1.0 / Math.sqrt(var / dim + eps));
            scaleRow(out, x, off, dim, -mean, inv, weight, bias);
        }
    }

    @Override
    public void relu(float[] x, int len) {
        int i = 0;
        for (int upper = F.loopBound(len); i < upper; i += L) {
            FloatVector.fromArray(F, x, i).max(0f).intoArray(x, i);
        }
        for (; i < len; i++) x[i] = Math.max(x[i], 0f);
    }

    @Override
    public void gelu(float[] x, int len) {
        float c = (float) Math.sqrt(2 / Math.PI);
        int i = 0;
        for (int upper = F.loopBound(len); i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector inner = v.mul(v).mul(v).mul(0.044715f).add(v).mul(c);
            v.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f)).intoArray(x, i);
        }
        for (; i < len; i++) {
            double v = x[i];
            x[i] = (float) (0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v))));
        }
    }

    @Override
    public void silu(float[] x, int len) {
        int i = 0;
        for (int upper = F.loopBound(len); i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(x, i);
        }
        for (; i < len; i++) x[i] = x[i] / (1f + (float) Math.exp(-x[i]));
    }

    @Override
    public void mul(float[] x, float[] y, int len) {
        int i = 0;
        for (int upper = F.loopBound(len); i < upper; i += L) {
            FloatVector.fromArray(F, x, i).mul(FloatVector.fromArray(F, y, i)).intoArray(x, i);
        }
        for (; i < len; i++) x[i] *= y[i];
    }

    @Override
    public void add(float[] x, float[] y, int len) {
        int i = 0;
        for (int upper = F.loopBound(len); i < upper; i += L) {
            FloatVector.fromArray(F, x, i).add(FloatVector.fromArray(F, y, i)).intoArray(x, i);
        }
        for (; i < len; i++) x[i] += y[i];
    }

    @Override
    public void softmax(float[] x, int off, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) max = Math.max(max, x[off + i]);
        float sum = 0;
        for (int i = 0; i < len; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        int i = 0;
        for (int upper = F.loopBound(len); i < upper; i += L) {
            FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        }
        for (; i < len; i++) x[off + i] *= inv;
    }

    @Override
    public void embedding(float[] out, float[] table, int[] ids, int dim) {
        for (int t = 0; t < ids.length; t++) System.arraycopy(table, ids[t] * dim, out, t * dim, dim);
    }

    @Override
    public int argmax(float[] x, int off, int len) {
        int best = 0;
        float bestValue = x[off];
        for (int i = 1; i < len; i++) {
            if (x[off + i] > bestValue) {
                bestValue = x[off + i];
                best = i;
            }
        }
        return best;
    }

    @Override
    public void attention(float[] out, int outOff, float[] q, int qOff, float[] keys, float[] values, int kvOff,
                          int kvStride, int numKeys, int headDim, float scale, float[] bias, int biasOff,
                          float[] scores) {
        for (int t = 0; t < numKeys; t++) {
            float s = scale * dot(q, qOff, keys, kvOff + t * kvStride, headDim);
            scores[t] = bias == null ? s : s + bias[biasOff + t];
        }
        softmax(scores, 0, numKeys);
        int d = 0;
        for (int upper = F.loopBound(headDim); d < upper; d += L) {               // vector body over the head
            FloatVector acc = FloatVector.zero(F);
            for (int t = 0; t < numKeys; t++) {
                acc = FloatVector.fromArray(F, values, kvOff + t * kvStride + d).fma(FloatVector.broadcast(F, scores[t]), acc);
            }
            acc.intoArray(out, outOff + d);
        }
        for (; d < headDim; d++) {                                               // tail, scalar
            float sum = 0;
            for (int t = 0; t < numKeys; t++) sum += scores[t] * values[kvOff + t * kvStride + d];
            out[outOff + d] = sum;
        }
    }

    /** Shared with the {@link ThreadTeam}: a helper that has not started when the caller runs out of work never runs. */
    @Override
    public void parallelFor(int n, IntConsumer body) {
        team.run(n, body);
    }

    @Override
    public void close() {
        if (ownsTeam) team.close();
    }
}
