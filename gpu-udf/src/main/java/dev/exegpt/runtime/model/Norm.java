package dev.exegpt.runtime.model;

/**
 * A per-row norm with its learned parameters: LayerNorm (mean and variance, weight and bias: OPT) or RMSNorm (root
 * mean square, weight only: T5, Llama). Backends apply it ({@link dev.exegpt.runtime.backend.Ops#norm}).
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

    /** Width of the rows it normalises. */
    public int dim() {
        return weight.length;
    }

    /** Bytes of the parameters. */
    public long numBytes() {
        return 4L * (weight.length + (bias == null ? 0 : bias.length));
    }
}
