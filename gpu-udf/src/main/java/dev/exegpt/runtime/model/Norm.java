package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;

/**
 * A per-row norm with its learned parameters: LayerNorm (mean and variance, weight and bias: OPT) or RMSNorm (root
 * mean square, weight only: T5, Llama).
 *
 * @param weight (dModel)
 * @param bias (dModel) for LayerNorm; null for RMSNorm
 */
public record Norm(float[] weight, float[] bias, float eps) {

    public static Norm rms(float[] weight, float eps) {
        return new Norm(weight, null, eps);
    }

    public static Norm layer(float[] weight, float[] bias, float eps) {
        return new Norm(weight, bias, eps);
    }

    /** out (rows, dim) = norm of x (rows, dim). */
    public void apply(Kernels k, float[] out, float[] x, int rows) {
        int dim = weight.length;
        if (bias == null) k.rmsNorm(out, x, weight, rows, dim, eps);
        else k.layerNorm(out, x, weight, bias, rows, dim, eps);
    }

    /** Bytes of the parameters. */
    public long numBytes() {
        return 4L * (weight.length + (bias == null ? 0 : bias.length));
    }
}
