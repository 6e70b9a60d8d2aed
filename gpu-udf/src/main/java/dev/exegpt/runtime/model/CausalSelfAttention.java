package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.Matrix;

/**
 * Causal self-attention with its norm and residual for the decoder-only families, over the KV cache:
 * {@code x += o(attention(rope(q(h)), rope(k(h)), v(h))) + oBias}, h = norm(x). Any number of key/value heads
 * (grouped-query attention), optional biases (OPT has them, Llama does not), optional RoPE (Llama; OPT adds learned
 * positions at the embedding instead), scores scaled by 1/sqrt(headDim). Prefill (many rows per sequence) and
 * decode (one row) run the same code.
 */
public final class CausalSelfAttention {

    /** The Hugging Face names of the projections; a null bias name means no bias. */
    public record Names(String q, String k, String v, String o, String qBias, String kBias, String vBias, String oBias) {}

    private final int layer;
    private final int dModel;
    private final ShardLayout shard;
    private final Kernels k;
    private final AllReduce allReduce;
    private final Norm norm;
    private final Matrix wq;               // (localInner, dModel), outputs split
    private final Matrix wk, wv;           // (localKvInner, dModel), outputs split
    private final float[] bq;              // (localInner) or null
    private final float[] bk, bv;          // (localKvInner) or null
    private final Matrix wo;               // (dModel, localInner), inputs split
    private final float[] bo;              // (dModel) or null, added after the all-reduce
    private final Rope rope;               // null: positions enter elsewhere

    public CausalSelfAttention(ModelConfig c, Weights w, int layer, Norm norm, Names n, Rope rope, ShardLayout shard,
                               Kernels k, AllReduce allReduce) {
        this.layer = layer;
        this.dModel = c.dModel();
        this.shard = shard;
        this.k = k;
        this.allReduce = allReduce;
        this.norm = norm;
        this.rope = rope;
        int d = c.dModel();
        int inner = c.innerDim();
        int kvDim = c.kvDim();
        int is = shard.innerStart();
        int li = shard.localInner();
        int ks = shard.kvInnerStart();
        int lk = shard.localKvInner();
        wq = w.matrix(n.q(), inner, d, Split.OUTPUTS, is, li, k);
        wk = w.matrix(n.k(), kvDim, d, Split.OUTPUTS, ks, lk, k);
        wv = w.matrix(n.v(), kvDim, d, Split.OUTPUTS, ks, lk, k);
        bq = n.qBias() == null ? null : w.vector(n.qBias(), inner, Split.OUTPUTS, is, li);
        bk = n.kBias() == null ? null : w.vector(n.kBias(), kvDim, Split.OUTPUTS, ks, lk);
        bv = n.vBias() == null ? null : w.vector(n.vBias(), kvDim, Split.OUTPUTS, ks, lk);
        wo = w.matrix(n.o(), d, inner, Split.INPUTS, is, li, k);
        bo = n.oBias() == null ? null : w.vector(n.oBias(), d, Split.NONE, 0, d);
    }

    public long weightBytes() {
        long vectors = 0;
        for (float[] v : new float[][] {bq, bk, bv, bo}) vectors += v == null ? 0 : 4L * v.length;
        return wq.numBytes() + wk.numBytes() + wv.numBytes() + wo.numBytes() + norm.numBytes() + vectors;
    }

    /** x (t, dModel) += the sub-layer of x; in place. Writes this step's keys and values to the cache. */
    public void forward(StepBatch b, float[] x) {
        int t = b.numTokens();
        int d = dModel;
        int li = shard.localInner();
        int lk = shard.localKvInner();
        float[] h = new float[t * d];                                   // (t, d)
        norm.apply(k, h, x, t);
        float[] q = new float[t * li];                                  // (t, localInner)
        float[] kk = new float[t * lk];                                 // (t, localKvInner)
        float[] vv = new float[t * lk];
        k.linear(q, h, wq, bq, t);
        k.linear(kk, h, wk, bk, t);
        k.linear(vv, h, wv, bv, t);
        if (rope != null) {
            rope.apply(q, b, shard.numLocalHeads());
            rope.apply(kk, b, shard.numLocalKvHeads());
        }
        AttentionOps.writeSelfCache(b, shard, layer, kk, vv);
        float[] attn = new float[t * li];                               // (t, localInner)
        float scale = (float) (1.0 / Math.sqrt(shard.headDim()));
        AttentionOps.attend(k, b, layer, shard, AttentionOps.Source.SELF_CACHE, q, attn, null, null, scale, null);
        float[] o = new float[t * d];                                   // (t, d), partial under TP
        k.linear(o, attn, wo, null, t);
        allReduce.sum(shard.shardIndex(), o, t * d);
        AttentionOps.addBias(o, bo, t, d);
        k.add(x, o, t * d);
    }
}
