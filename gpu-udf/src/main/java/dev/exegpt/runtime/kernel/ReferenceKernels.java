package dev.exegpt.runtime.kernel;

import java.util.function.IntConsumer;

/** Plain loops, one thread, accumulating in double where it is free: the oracle every fast kernel is tested against. */
public final class ReferenceKernels implements Kernels {

    @Override public String name() { return "reference"; }

    @Override public int numThreads() { return 1; }

    @Override
    public Matrix prepare(float[] w, int rows, int cols) {
        if (w.length != rows * cols) {
            throw new IllegalArgumentException("weight length " + w.length + " != rows " + rows + " * cols " + cols);
        }
        return new Matrix(w.clone(), rows, cols, Matrix.Layout.ROW_MAJOR);
    }

    @Override
    public void linear(float[] out, float[] a, Matrix matrix, float[] bias, int m) {
        if (matrix.layout() != Matrix.Layout.ROW_MAJOR) {
            throw new IllegalArgumentException("reference linear needs a ROW_MAJOR matrix, got " + matrix.layout());
        }
        float[] w = matrix.data();
        int k = matrix.cols();
        int n = matrix.rows();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = bias == null ? 0 : bias[j];
                for (int p = 0; p < k; p++) sum += (double) a[i * k + p] * w[j * k + p];
                out[i * n + j] = (float) sum;
            }
        }
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        double sum = 0;
        for (int i = 0; i < len; i++) sum += (double) a[aOff + i] * b[bOff + i];
        return (float) sum;
    }

    @Override
    public void rmsNorm(float[] out, float[] x, float[] weight, int rows, int dim, float eps) {
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[r * dim + i] * x[r * dim + i];
            double inv = 1.0 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) out[r * dim + i] = (float) (x[r * dim + i] * inv * weight[i]);
        }
    }

    @Override
    public void layerNorm(float[] out, float[] x, float[] weight, float[] bias, int rows, int dim, float eps) {
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int i = 0; i < dim; i++) mean += x[r * dim + i];
            mean /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) var += (x[r * dim + i] - mean) * (x[r * dim + i] - mean);
            double inv = 1.0 / Math.sqrt(var / dim + eps);
            for (int i = 0; i < dim; i++) {
                out[r * dim + i] = (float) ((x[r * dim + i] - mean) * inv * weight[i] + bias[i]);
            }
        }
    }

    @Override
    public void relu(float[] x, int len) {
        for (int i = 0; i < len; i++) x[i] = Math.max(x[i], 0f);
    }

    @Override
    public void gelu(float[] x, int len) {
        for (int i = 0; i < len; i++) {
            double v = x[i];
            x[i] = (float) (0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
        }
    }

    @Override
    public void silu(float[] x, int len) {
        for (int i = 0; i < len; i++) x[i] = (float) (x[i] / (1 + Math.exp(-(double) x[i])));
    }

    @Override
    public void mul(float[] x, float[] y, int len) {
        for (int i = 0; i < len; i++) x[i] *= y[i];
    }

    @Override
    public void add(float[] x, float[] y, int len) {
        for (int i = 0; i < len; i++) x[i] += y[i];
    }

    @Override
    public void softmax(float[] x, int off, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < len; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        for (int i = 0; i < len; i++) x[off + i] = (float) (x[off + i] / sum);
    }

    @Override
    public void embedding(float[] out, float[] table, int[] ids, int dim) {
        for (int t = 0; t < ids.length; t++) System.arraycopy(table, ids[t] * dim, out, t * dim, dim);
    }

    @Override
    public int argmax(float[] x, int off, int len) {
        int best = 0;
        for (int i = 1; i < len; i++) if (x[off + i] > x[off + best]) best = i;
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
        for (int d = 0; d < headDim; d++) {
            double sum = 0;
            for (int t = 0; t < numKeys; t++) sum += (double) scores[t] * values[kvOff + t * kvStride + d];
            out[outOff + d] = (float) sum;
        }
    }

    @Override
    public void parallelFor(int n, IntConsumer body) {
        for (int i = 0; i < n; i++) body.accept(i);
    }
}
