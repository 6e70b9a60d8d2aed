package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.Matrix;

/**
 * The feed-forward sub-layer with its norm and residual, written once for every family:
 * {@code x += down(act(in(norm(x))) [* gate(norm(x))]) + downBias}. Variants: ReLU (OPT, T5 v1.0), gated-GELU
 * (T5 v1.1: gelu(wi_0 h) * wi_1 h) and SwiGLU (Llama: silu(gate_proj h) * up_proj h). Under tensor parallelism in and
 * gate are split by outputs, down by inputs, and the partial sums meet in the all-reduce before the bias.
 */
public final class FeedForward {

    /** The activation between the two projections. */
    public enum Activation {
        RELU, GATED_GELU, SWIGLU;

        boolean gated() {
            return this != RELU;
        }
    }

    private final Activation activation;
    private final ShardLayout shard;
    private final Kernels k;
    private final AllReduce allReduce;
    private final int dModel;
    private final Norm norm;
    private final Matrix in;               // (localFfn, dModel): the activated projection; outputs split
    private final float[] inBias;          // (localFfn) or null
    private final Matrix gate;             // (localFfn, dModel): the linear factor of a gated variant, else null
    private final Matrix down;             // (dModel, localFfn), inputs split
    private final float[] downBias;        // (dModel) or null, added after the all-reduce

    /**
     * Loads the weights by name (null names: no such tensor) and slices them for the shard.
     *
     * @param inName the activated projection (fc1, wi, wi_0, gate_proj)
     * @param gateName the multiplied projection of a gated variant (wi_1, up_proj), else null
     * @param downName the output projection (fc2, wo, down_proj)
     */
    public FeedForward(ModelConfig c, Weights w, Activation activation, Norm norm, String inName, String inBiasName,
                       String gateName, String downName, String downBiasName, ShardLayout shard, Kernels k,
                       AllReduce allReduce) {
        this.activation = activation;
        this.shard = shard;
        this.k = k;
        this.allReduce = allReduce;
        this.dModel = c.dModel();
        this.norm = norm;
        int d = c.dModel();
        int f = c.ffnDim();
        int fs = shard.ffnStart();
        int lf = shard.localFfn();
        if (activation.gated() != (gateName != null)) {
            throw new IllegalArgumentException(activation + ": a gate projection is needed exactly for gated variants");
        }
        in = w.matrix(inName, f, d, Split.OUTPUTS, fs, lf, k);
        inBias = inBiasName == null ? null : w.vector(inBiasName, f, Split.OUTPUTS, fs, lf);
        gate = gateName == null ? null : w.matrix(gateName, f, d, Split.OUTPUTS, fs, lf, k);
        down = w.matrix(downName, d, f, Split.INPUTS, fs, lf, k);
        downBias = downBiasName == null ? null : w.vector(downBiasName, d, Split.NONE, 0, d);
    }

    public long weightBytes() {
        long vectors = (inBias == null ? 0 : 4L * inBias.length) + (downBias == null ? 0 : 4L * downBias.length);
        return in.numBytes() + (gate == null ? 0 : gate.numBytes()) + down.numBytes() + norm.numBytes() + vectors;
    }

    /** x (t, dModel) += the sub-layer of x; in place (the residual stream). */
    public void forward(float[] x, int t) {
        int d = dModel;
        int lf = shard.localFfn();
        float[] h = new float[t * d];                                   // (t, d)
        norm.apply(k, h, x, t);
        float[] a = new float[t * lf];                                  // (t, localFfn)
        k.linear(a, h, in, inBias, t);
        switch (activation) {
            case RELU -> k.relu(a, t * lf);
            case GATED_GELU -> k.gelu(a, t * lf);
            case SWIGLU -> silu(a, t * lf);
        }
        if (gate != null) {
            float[] g = new float[t * lf];                              // (t, localFfn)
            k.linear(g, h, gate, null, t);
            k.mul(a, g, t * lf);
        }
        float[] o = new float[t * d];                                   // (t, d), partial under TP
        k.linear(o, a, down, null, t);
        allReduce.sum(shard.shardIndex(), o, t * d);
        AttentionOps.addBias(o, downBias, t, d);
        k.add(x, o, t * d);
    }

    /** x[i] = x[i] * sigmoid(x[i]) (SiLU), in place; elementwise work next to the two matrix products. */
    static void silu(float[] x, int len) {
        for (int i = 0; i < len; i++) x[i] = x[i] / (1f + (float) Math.exp(-x[i]));
    }
}
