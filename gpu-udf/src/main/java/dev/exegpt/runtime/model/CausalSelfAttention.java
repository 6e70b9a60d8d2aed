package dev.exegpt.runtime.model;

import dev.exegpt.runtime.backend.Ops;

/**
 * Causal self-attention with its norm and residual for the decoder-only families, over the KV cache:
 * {@code x += o(attention(rope(q(h)), rope(k(h)), v(h))) + oBias}, h = norm(x). Any number of key/value heads
 * (grouped-query attention), optional biases (OPT has them, Llama does not), optional RoPE (Llama; OPT adds learned
 * positions at the embedding instead), scores scaled by 1/sqrt(headDim). Prefill (many rows per sequence) and
 * decode (one row) run the same code, on every backend ({@link Ops}).
 */
public final class CausalSelfAttention {

    /** The Hugging Face names of the projections; a null bias name means no bias. */
    public record Names(String q, String k, String v, String o, String qBias, String kBias, String vBias, String oBias) {}

    private final int layer;
    private final int dModel;
    private final ShardLayout shard;
    private final Ops ops;
    private final Norm norm;
    private final Ops.Weight wq;           // (localInner, dModel), outputs split
    private final Ops.Weight wk, wv;       // (localKvInner, dModel), outputs split
    private final float[] bq;              // (localInner) or null
    private final float[] bk, bv;          // (localKvInner) or null
    private final Ops.Weight wo;           // (dModel, localInner), inputs split
    private final float[] bo;              // (dModel) or null, added after the all-reduce
    private final Rope rope;               // null: positions enter elsewhere
    private final Ops.Weight[] qkv;        // wq, wk, wv: one parallel loop for the three
    private final float[][] qkvBias;
    private final Ops.Act[] qkvOut = new Ops.Act[3];   // this step's q, k, v (one device thread runs a layer)

    public CausalSelfAttention(ModelConfig c, Weights w, int layer, Norm norm, Names n, Rope rope, ShardLayout shard,
                               Ops ops) {
        this.layer = layer;
        this.dModel = c.dModel();
        this.shard = shard;
        this.ops = ops;
        Ops k = ops;
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
        ops.resident(bq, bk, bv, bo, norm.weight(), norm.bias(), rope == null ? null : rope.invFreq());
        qkv = new Ops.Weight[] {wq, wk, wv};
        qkvBias = new float[][] {bq, bk, bv};
    }

    public long weightBytes() {
        long vectors = 0;
        for (float[] v : new float[][] {bq, bk, bv, bo}) vectors += v == null ? 0 : 4L * v.length;
        return wq.numBytes() + wk.numBytes() + wv.numBytes() + wo.numBytes() + norm.numBytes() + vectors;
    }

    /** x (t, dModel) += the sub-layer of x; in place. Writes this step's keys and values to the cache. */
    public void forward(StepBatch b, Ops.Act x) {
        int t = b.numTokens();
        int li = shard.localInner();
        int lk = shard.localKvInner();
        Ops.Act h = ops.act((long) t * dModel);                         // (t, d)
        ops.norm(h, x, norm, t);
        Ops.Act q = ops.act((long) t * li);                             // (t, localInner)
        Ops.Act kk = ops.act((long) t * lk);                            // (t, localKvInner)
        Ops.Act vv = ops.act((long) t * lk);
        qkvOut[0] = q;
        qkvOut[1] = kk;
        qkvOut[2] = vv;
        ops.linears(qkvOut, h, qkv, qkvBias, t);
        if (rope != null) {
            ops.rope(q, b, shard.numLocalHeads(), rope);
            ops.rope(kk, b, shard.numLocalKvHeads(), rope);
        }
        ops.writeSelfCache(b, shard, layer, kk, vv);
        Ops.Act attn = ops.act((long) t * li);                          // (t, localInner)
        float scale = (float) (1.0 / Math.sqrt(shard.headDim()));
        ops.attend(b, layer, shard, AttentionOps.Source.SELF_CACHE, q, attn, null, null, scale, null);
        ops.residual(x, attn, wo, bo, t);
    }
}
