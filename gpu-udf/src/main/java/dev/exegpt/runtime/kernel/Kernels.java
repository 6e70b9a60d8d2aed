package dev.exegpt.runtime.kernel;

import dev.exegpt.runtime.weights.DType;
import java.util.function.IntConsumer;

/**
 * The numeric kernels the models run on. Every array is row-major with the last dimension contiguous; shapes are
 * given in the comments as (rows, columns). {@link ReferenceKernels} is the plain-loop oracle, {@link VectorKernels}
 * the fast CPU implementation (tested against the oracle on odd shapes); a CUDA implementation can be added behind
 * the same interface (issue 6).
 *
 * <p>Weights follow the Hugging Face {@code nn.Linear} layout (out, in), so {@link #linear} multiplies by the
 * transpose. No kernel allocates per call except where noted; outputs never alias inputs unless stated.
 */
public interface Kernels extends AutoCloseable {

    /** A short name for logs and reports, e.g. {@code vector(2 threads)}. */
    String name();

    /** Threads this instance may use; 1 for a pipeline-stage device that owns one core. */
    int numThreads();

    /**
     * Turns a weight (rows, cols) in the Hugging Face layout (out features, in features) into this family's layout
     * for {@link #linear}. Done once at load time; the returned matrix does not keep w.
     */
    Matrix prepare(float[] w, int rows, int cols);

    /**
     * As {@link #prepare}, for a 16-bit weight (the F16 or BF16 patterns of a checkpoint, row-major). Kernels that read
     * 16-bit values keep them so (half the memory, half the bytes a decode step streams); the default widens them.
     */
    default Matrix prepare16(short[] bits, DType dtype, int rows, int cols) {
        return prepare(dtype.widen(bits), rows, cols);
    }

    /** out (m, w.rows) = a (m, w.cols) @ w^T + bias (w.rows); bias may be null. out may not alias a. */
    void linear(float[] out, float[] a, Matrix w, float[] bias, int m);

    /**
     * outs[i] (m, ws[i].rows) = a (m, cols) @ ws[i]^T + biases[i] for every i: products of one input (a layer's query,
     * key and value projections; a gated feed-forward's two), which a threaded implementation runs as one parallel loop
     * (one hand-over and one wait instead of one per product). biases, or any of its entries, may be null; every
     * matrix has a's cols.
     */
    default void linears(float[][] outs, float[] a, Matrix[] ws, float[][] biases, int m) {
        for (int i = 0; i < ws.length; i++) linear(outs[i], a, ws[i], biases == null ? null : biases[i], m);
    }

    /** Sum of a[aOff + i] * b[bOff + i] for i in [0, len). */
    float dot(float[] a, int aOff, float[] b, int bOff, int len);

    /** out (rows, dim) = x / sqrt(mean(x^2) + eps) * weight (dim): T5's layer norm (no mean, no bias). */
    void rmsNorm(float[] out, float[] x, float[] weight, int rows, int dim, float eps);

    /** out (rows, dim) = (x - mean) / sqrt(var + eps) * weight (dim) + bias (dim), per row. */
    void layerNorm(float[] out, float[] x, float[] weight, float[] bias, int rows, int dim, float eps);

    /** x[i] = max(x[i], 0) for i in [0, len); in place. */
    void relu(float[] x, int len);

    /** x[i] = gelu(x[i]) with the tanh approximation ("gelu_new" in Hugging Face); in place. */
    void gelu(float[] x, int len);

    /** x[i] = x[i] * sigmoid(x[i]) (SiLU, Llama's gate activation); in place. */
    default void silu(float[] x, int len) {
        for (int i = 0; i < len; i++) x[i] = x[i] / (1f + (float) Math.exp(-x[i]));
    }

    /** x[i] *= y[i] for i in [0, len); in place on x (the gate of a gated feed-forward). */
    void mul(float[] x, float[] y, int len);

    /** x[i] += y[i] for i in [0, len); in place on x (residual connections, all-reduce sums). */
    void add(float[] x, float[] y, int len);

    /** x[off .. off+len) = softmax of itself, computed stably (max subtracted); in place. */
    void softmax(float[] x, int off, int len);

    /** out (ids.length, dim) = rows ids[t] of table (vocab, dim). The caller checks the ids. */
    void embedding(float[] out, float[] table, int[] ids, int dim);

    /** Index of the largest of x[off .. off+len), the first one on ties; relative to off. */
    int argmax(float[] x, int off, int len);

    /**
     * One attention head for one query over numKeys cached positions:
     * scores[t] = scale * q . keys[t] + (bias == null ? 0 : bias[biasOff + t]); p = softmax(scores);
     * out[outOff .. outOff+headDim) = sum_t p[t] * values[t].
     * Key t of this head starts at keys[kvOff + t * kvStride] (the cache holds all heads of a position in one row
     * of kvStride floats); values likewise. scores is scratch of at least numKeys floats.
     */
    void attention(float[] out, int outOff, float[] q, int qOff, float[] keys, float[] values, int kvOff,
                   int kvStride, int numKeys, int headDim, float scale, float[] bias, int biasOff, float[] scores);

    /**
     * Runs body(i) for i in [0, n), split over this instance's threads; returns when all are done. The bodies must
     * write disjoint memory.
     */
    void parallelFor(int n, IntConsumer body);

    /** Releases threads this instance owns; the default owns none. */
    @Override
    default void close() {}
}
