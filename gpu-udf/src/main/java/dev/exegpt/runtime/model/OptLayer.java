package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.Matrix;

/**
 * One OPT decoder layer (pre-LayerNorm, ReLU feed-forward), as one tensor-parallel shard holds it. Used for prompt
 * prefill (many rows per sequence) and decode (one row per sequence) alike; keys and values go to the cache.
 */
final class OptLayer implements Layer {
    private final int layer;
    private final int dModel;
    private final float eps;
    private final ShardLayout shard;
    private final Kernels k;
    private final AllReduce allReduce;
    private final int rank;

    private final float[] ln1Weight, ln1Bias;      // (dModel)
    private final Matrix wq, wk, wv;               // (localInner, dModel), outputs split
    private final float[] bq, bk, bv;              // (localInner)
    private final Matrix wo;                       // (dModel, localInner), inputs split
    private final float[] bo;                      // (dModel), added after the all-reduce
    private final float[] ln2Weight, ln2Bias;      // (dModel)
    private final Matrix fc1;                      // (localFfn, dModel), outputs split
    private final float[] b1;                      // (localFfn)
    private final Matrix fc2;                      // (dModel, localFfn), inputs split
    private final float[] b2;                      // (dModel)

    OptLayer(ModelConfig c, Weights w, int layer, ShardLayout shard, Kernels k, AllReduce allReduce) {
        this.layer = layer;
        this.dModel = c.dModel();
        this.eps = c.normEps();
        this.shard = shard;
        this.k = k;
        this.allReduce = allReduce;
        this.rank = shard.shardIndex();
        int d = dModel;
        int inner = c.innerDim();
        int is = shard.innerStart();
        int li = shard.localInner();
        int fs = shard.ffnStart();
        int lf = shard.localFfn();
        String p = "model.decoder.layers." + layer + ".";
        ln1Weight = w.vector(p + "self_attn_layer_norm.weight", d, Split.NONE, 0, d);
        ln1Bias = w.vector(p + "self_attn_layer_norm.bias", d, Split.NONE, 0, d);
        wq = w.matrix(p + "self_attn.q_proj.weight", inner, d, Split.OUTPUTS, is, li, k);
        wk = w.matrix(p + "self_attn.k_proj.weight", inner, d, Split.OUTPUTS, is, li, k);
        wv = w.matrix(p + "self_attn.v_proj.weight", inner, d, Split.OUTPUTS, is, li, k);
        bq = w.vector(p + "self_attn.q_proj.bias", inner, Split.OUTPUTS, is, li);
        bk = w.vector(p + "self_attn.k_proj.bias", inner, Split.OUTPUTS, is, li);
        bv = w.vector(p + "self_attn.v_proj.bias", inner, Split.OUTPUTS, is, li);
        wo = w.matrix(p + "self_attn.out_proj.weight", d, inner, Split.INPUTS, is, li, k);
        bo = w.vector(p + "self_attn.out_proj.bias", d, Split.NONE, 0, d);
        ln2Weight = w.vector(p + "final_layer_norm.weight", d, Split.NONE, 0, d);
        ln2Bias = w.vector(p + "final_layer_norm.bias", d, Split.NONE, 0, d);
        fc1 = w.matrix(p + "fc1.weight", c.ffnDim(), d, Split.OUTPUTS, fs, lf, k);
        b1 = w.vector(p + "fc1.bias", c.ffnDim(), Split.OUTPUTS, fs, lf);
        fc2 = w.matrix(p + "fc2.weight", d, c.ffnDim(), Split.INPUTS, fs, lf, k);
        b2 = w.vector(p + "fc2.bias", d, Split.NONE, 0, d);
    }

    @Override
    public long weightBytes() {
        long vectors = 4L * (6 * dModel + 3 * shard.localInner() + shard.localFfn());
        return wq.numBytes() + wk.numBytes() + wv.numBytes() + wo.numBytes() + fc1.numBytes() + fc2.numBytes() + vectors;
    }

    @Override
    public void forward(StepBatch b, float[] x) {
        int t = b.numTokens();
        int d = dModel;
        int li = shard.localInner();
        int lf = shard.localFfn();
        // self-attention block: x += out_proj(attention(LN(x)))
        float[] h = new float[t * d];                                   // (t, d)
        k.layerNorm(h, x, ln1Weight, ln1Bias, t, d, eps);
        float[] q = new float[t * li];                                  // (t, localInner)
        float[] kk = new float[t * li];
        float[] vv = new float[t * li];
        k.linear(q, h, wq, bq, t);
        k.linear(kk, h, wk, bk, t);
        k.linear(vv, h, wv, bv, t);
        AttentionOps.writeSelfCache(b, shard, layer, kk, vv);
        float[] attn = new float[t * li];                               // (t, localInner)
        float scale = (float) (1.0 / Math.sqrt(shard.headDim()));
        AttentionOps.attend(k, b, layer, shard, AttentionOps.Source.SELF_CACHE, q, attn, null, null, scale, null);
        float[] o = new float[t * d];                                   // (t, d), partial under TP
        k.linear(o, attn, wo, null, t);
        allReduce.sum(rank, o, t * d);
        AttentionOps.addBias(o, bo, t, d);
        k.add(x, o, t * d);
        // feed-forward block: x += fc2(relu(fc1(LN(x))))
        k.layerNorm(h, x, ln2Weight, ln2Bias, t, d, eps);
        float[] f = new float[t * lf];                                  // (t, localFfn)
        k.linear(f, h, fc1, b1, t);
        k.relu(f, t * lf);
        k.linear(o, f, fc2, null, t);
        allReduce.sum(rank, o, t * d);
        AttentionOps.addBias(o, b2, t, d);
        k.add(x, o, t * d);
    }
}
