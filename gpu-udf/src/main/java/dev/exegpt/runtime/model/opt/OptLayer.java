package dev.exegpt.runtime.model.opt;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.model.CausalSelfAttention;
import dev.exegpt.runtime.model.FeedForward;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Norm;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.Split;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;

/**
 * One OPT decoder layer (pre-LayerNorm, biased projections, ReLU feed-forward), as one tensor-parallel shard holds
 * it. Used for prompt prefill (many rows per sequence) and decode (one row per sequence) alike.
 */
final class OptLayer implements Layer {
    private final CausalSelfAttention attention;
    private final FeedForward feedForward;

    OptLayer(ModelConfig c, Weights w, int layer, ShardLayout shard, Ops k) {
        String p = "model.decoder.layers." + layer + ".";
        String a = p + "self_attn.";
        attention = new CausalSelfAttention(c, w, layer, norm(c, w, p + "self_attn_layer_norm."),
                new CausalSelfAttention.Names(a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight",
                        a + "out_proj.weight", a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias",
                        a + "out_proj.bias"), null, shard, k);
        feedForward = new FeedForward(c, w, FeedForward.Activation.RELU, norm(c, w, p + "final_layer_norm."),
                p + "fc1.weight", p + "fc1.bias", null, p + "fc2.weight", p + "fc2.bias", shard, k);
    }

    static Norm norm(ModelConfig c, Weights w, String prefix) {
        int d = c.dModel();
        return Norm.layer(w.vector(prefix + "weight", d, Split.NONE, 0, d), w.vector(prefix + "bias", d, Split.NONE, 0, d),
                c.normEps());
    }

    @Override
    public long weightBytes() {
        return attention.weightBytes() + feedForward.weightBytes();
    }

    @Override
    public void forward(StepBatch b, Ops.Act x) {
        attention.forward(b, x);
        feedForward.forward(x, b.numTokens());
    }
}
