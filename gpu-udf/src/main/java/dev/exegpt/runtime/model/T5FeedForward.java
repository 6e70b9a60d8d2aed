package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.Matrix;

/** T5's feed-forward sub-layer with its norm and residual: x += wo(act(wi(RMS(x)))), act ReLU or gated-GELU. */
final class T5FeedForward {
    private final ShardLayout shard;
    private final Kernels k;
    private final AllReduce allReduce;
    private final int dModel;
    private final float eps;
    private final float[] normWeight;      // (dModel)
    private final Matrix wi;               // (localFfn, dModel) ReLU, or wi_0 of gated-GELU; outputs split
    private final Matrix wiGate;           // (localFfn, dModel) wi_1 of gated-GELU, or null
    private final Matrix wo;               // (dModel, localFfn), inputs split

    T5FeedForward(ModelConfig c, Weights w, String prefix, ShardLayout shard, Kernels k, AllReduce allReduce) {
        this.shard = shard;
        this.k = k;
        this.allReduce = allReduce;
        this.dModel = c.dModel();
        this.eps = c.normEps();
        int d = c.dModel();
        int fs = shard.ffnStart();
        int lf = shard.localFfn();
        normWeight = w.vector(prefix + "layer_norm.weight", d, Split.NONE, 0, d);
        String ff = prefix + "DenseReluDense.";
        if (c.gatedGelu()) {
            wi = w.matrix(ff + "wi_0.weight", c.ffnDim(), d, Split.OUTPUTS, fs, lf, k);
            wiGate = w.matrix(ff + "wi_1.weight", c.ffnDim(), d, Split.OUTPUTS, fs, lf, k);
        } else {
            wi = w.matrix(ff + "wi.weight", c.ffnDim(), d, Split.OUTPUTS, fs, lf, k);
            wiGate = null;
        }
        wo = w.matrix(ff + "wo.weight", d, c.ffnDim(), Split.INPUTS, fs, lf, k);
    }

    long weightBytes() {
        return wi.numBytes() + (wiGate == null ? 0 : wiGate.numBytes()) + wo.numBytes() + 4L * dModel;
    }

    void forward(float[] x, int t) {
        int d = dModel;
        int lf = shard.localFfn();
        float[] h = new float[t * d];                                   // (t, d)
        k.rmsNorm(h, x, normWeight, t, d, eps);
        float[] f = new float[t * lf];                                  // (t, localFfn)
        k.linear(f, h, wi, null, t);
        if (wiGate == null) {
            k.relu(f, t * lf);
        } else {
            k.gelu(f, t * lf);
            float[] gate = new float[t * lf];
            k.linear(gate, h, wiGate, null, t);
            k.mul(f, gate, t * lf);
        }
        float[] o = new float[t * d];                                   // (t, d), partial under TP
        k.linear(o, f, wo, null, t);
        allReduce.sum(shard.shardIndex(), o, t * d);
        k.add(x, o, t * d);
    }
}
