package dev.exegpt.runtime.model.t5;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.model.AttentionOps;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Norm;
import dev.exegpt.runtime.model.PositionBias;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.Split;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;

/**
 * A T5 attention sub-layer with its norm and residual: x += o(attention(q(RMS(x)), k, v)). T5 does not scale the
 * scores by 1/sqrt(headDim) (the initialisation absorbs it). Three kinds: encoder self-attention (bidirectional,
 * relative bias, keys from the step), decoder self-attention (causal, relative bias, keys cached), and
 * cross-attention (no bias, keys and values of the encoder output, computed on a sequence's first decode step).
 */
final class T5Attention {
    enum Kind { ENCODER_SELF, DECODER_SELF, CROSS }

    private final Kind kind;
    private final int layer;
    private final ShardLayout shard;
    private final Ops ops;
    private final int dModel;
    private final Norm norm;               // RMS
    private final Ops.Weight wq, wk, wv;   // (localInner, dModel), outputs split
    private final Ops.Weight wo;           // (dModel, localInner), inputs split
    private final PositionBias bias;       // null for cross-attention
    private final Ops.Weight[] qkv;        // wq, wk, wv of self-attention: one parallel loop for the three
    private final Ops.Act[] qkvOut = new Ops.Act[3];   // this step's q, k, v (one device thread runs a layer)

    T5Attention(ModelConfig c, Weights w, String blockPrefix, int sublayer, Kind kind, int layer, ShardLayout shard,
                Ops k) {
        this.kind = kind;
        this.layer = layer;
        this.shard = shard;
        this.ops = k;
        this.dModel = c.dModel();
        int d = c.dModel();
        int inner = c.innerDim();
        int is = shard.innerStart();
        int li = shard.localInner();
        String p = blockPrefix + "layer." + sublayer + ".";
        String a = p + (kind == Kind.CROSS ? "EncDecAttention." : "SelfAttention.");
        norm = Norm.rms(w.vector(p + "layer_norm.weight", d, Split.NONE, 0, d), c.normEps());
        wq = w.matrix(a + "q.weight", inner, d, Split.OUTPUTS, is, li, k);
        wk = w.matrix(a + "k.weight", inner, d, Split.OUTPUTS, is, li, k);
        wv = w.matrix(a + "v.weight", inner, d, Split.OUTPUTS, is, li, k);
        wo = w.matrix(a + "o.weight", d, inner, Split.INPUTS, is, li, k);
        bias = switch (kind) {
            case ENCODER_SELF -> T5RelativeBias.of(c, w, "encoder", shard, true);
            case DECODER_SELF -> T5RelativeBias.of(c, w, "decoder", shard, false);
            case CROSS -> null;
        };
        k.resident(norm.weight());
        qkv = new Ops.Weight[] {wq, wk, wv};
        if (bias != null) k.resident(bias);
    }

    long weightBytes() {
        return wq.numBytes() + wk.numBytes() + wv.numBytes() + wo.numBytes() + 4L * dModel;
    }

    void forward(StepBatch b, Ops.Act x) {
        int t = b.numTokens();
        long li = shard.localInner();
        Ops.Act h = ops.act((long) t * dModel);                         // (t, d)
        ops.norm(h, x, norm, t);
        Ops.Act q = ops.act(t * li);                                    // (t, localInner)
        Ops.Act attn = ops.act(t * li);
        if (kind == Kind.CROSS) {
            ops.linear(q, h, wq, null, t);
            ops.fillCrossCache(b, shard, layer, wk, wv);
            ops.attend(b, layer, shard, AttentionOps.Source.CROSS_CACHE, q, attn, null, null, 1f, null);
        } else {
            Ops.Act kk = ops.act(t * li);
            Ops.Act vv = ops.act(t * li);
            qkvOut[0] = q;
            qkvOut[1] = kk;
            qkvOut[2] = vv;
            ops.linears(qkvOut, h, qkv, null, t);
            if (kind == Kind.ENCODER_SELF) {
                ops.attend(b, layer, shard, AttentionOps.Source.LOCAL, q, attn, kk, vv, 1f, bias);
            } else {
                ops.writeSelfCache(b, shard, layer, kk, vv);
                ops.attend(b, layer, shard, AttentionOps.Source.SELF_CACHE, q, attn, null, null, 1f, bias);
            }
        }
        ops.residual(x, attn, wo, null, t);
    }
}
