package dev.exegpt.runtime.model.t5;

import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.Matrix;
import dev.exegpt.runtime.model.AllReduce;
import dev.exegpt.runtime.model.AttentionOps;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.SequenceState;
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
    private final Kernels k;
    private final AllReduce allReduce;
    private final int dModel;
    private final float eps;
    private final float[] normWeight;      // (dModel)
    private final Matrix wq, wk, wv;       // (localInner, dModel), outputs split
    private final Matrix wo;               // (dModel, localInner), inputs split
    private final T5RelativeBias bias;     // null for cross-attention

    T5Attention(ModelConfig c, Weights w, String blockPrefix, int sublayer, Kind kind, int layer, ShardLayout shard,
                Kernels k, AllReduce allReduce) {
        this.kind = kind;
        this.layer = layer;
        this.shard = shard;
        this.k = k;
        this.allReduce = allReduce;
        this.dModel = c.dModel();
        this.eps = c.normEps();
        int d = c.dModel();
        int inner = c.innerDim();
        int is = shard.innerStart();
        int li = shard.localInner();
        String p = blockPrefix + "layer." + sublayer + ".";
        String a = p + (kind == Kind.CROSS ? "EncDecAttention." : "SelfAttention.");
        normWeight = w.vector(p + "layer_norm.weight", d, Split.NONE, 0, d);
        wq = w.matrix(a + "q.weight", inner, d, Split.OUTPUTS, is, li, k);
        wk = w.matrix(a + "k.weight", inner, d, Split.OUTPUTS, is, li, k);
        wv = w.matrix(a + "v.weight", inner, d, Split.OUTPUTS, is, li, k);
        wo = w.matrix(a + "o.weight", d, inner, Split.INPUTS, is, li, k);
        bias = switch (kind) {
            case ENCODER_SELF -> new T5RelativeBias(c, w, "encoder", shard, true);
            case DECODER_SELF -> new T5RelativeBias(c, w, "decoder", shard, false);
            case CROSS -> null;
        };
    }

    long weightBytes() {
        return wq.numBytes() + wk.numBytes() + wv.numBytes() + wo.numBytes() + 4L * dModel;
    }

    void forward(StepBatch b, float[] x) {
        int t = b.numTokens();
        int d = dModel;
        int li = shard.localInner();
        float[] h = new float[t * d];                                   // (t, d)
        k.rmsNorm(h, x, normWeight, t, d, eps);
        float[] q = new float[t * li];                                  // (t, localInner)
        k.linear(q, h, wq, null, t);
        float[] attn = new float[t * li];
        switch (kind) {
            case ENCODER_SELF -> {
                float[] kk = new float[t * li];
                float[] vv = new float[t * li];
                k.linear(kk, h, wk, null, t);
                k.linear(vv, h, wv, null, t);
                AttentionOps.attend(k, b, layer, shard, AttentionOps.Source.LOCAL, q, attn, kk, vv, 1f, bias);
            }
            case DECODER_SELF -> {
                float[] kk = new float[t * li];
                float[] vv = new float[t * li];
                k.linear(kk, h, wk, null, t);
                k.linear(vv, h, wv, null, t);
                AttentionOps.writeSelfCache(b, shard, layer, kk, vv);
                AttentionOps.attend(k, b, layer, shard, AttentionOps.Source.SELF_CACHE, q, attn, null, null, 1f, bias);
            }
            case CROSS -> {
                fillCrossCache(b);
                AttentionOps.attend(k, b, layer, shard, AttentionOps.Source.CROSS_CACHE, q, attn, null, null, 1f, null);
            }
        }
        float[] o = new float[t * d];                                   // (t, d), partial under TP
        k.linear(o, attn, wo, null, t);
        allReduce.sum(shard.shardIndex(), o, t * d);
        k.add(x, o, t * d);
    }

    /** On a sequence's first decode step, projects its encoder output to this layer's cross keys and values. */
    private void fillCrossCache(StepBatch b) {
        int li = shard.localKvInner();
        int inner = shard.kvDim();
        for (int i = 0; i < b.numSequences(); i++) {
            if (b.startPos(i) != 0) continue;
            SequenceState s = b.state(i);
            int n = s.encoderLength;
            float[] kk = new float[n * li];                             // (encoderLength, localInner)
            float[] vv = new float[n * li];
            k.linear(kk, s.encoderOutput, wk, null, n);
            k.linear(vv, s.encoderOutput, wv, null, n);
            for (int r = 0; r < n; r++) {
                System.arraycopy(kk, r * li, s.crossKeys[layer], r * inner + shard.kvInnerStart(), li);
                System.arraycopy(vv, r * li, s.crossValues[layer], r * inner + shard.kvInnerStart(), li);
            }
        }
    }
}
