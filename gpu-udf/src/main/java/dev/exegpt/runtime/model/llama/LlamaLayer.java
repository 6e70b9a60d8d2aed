package dev.exegpt.runtime.model.llama;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.model.CausalSelfAttention;
import dev.exegpt.runtime.model.FeedForward;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Norm;
import dev.exegpt.runtime.model.Rope;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.Split;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;

/**
 * One Llama decoder layer as transformers' {@code LlamaDecoderLayer} computes it, on one tensor-parallel shard:
 * {@code x += o(attn(rope(q(rms(x))), rope(k(rms(x))), v(rms(x))))}, then
 * {@code x += down(silu(gate(rms(x))) * up(rms(x)))}; k and v have num_key_value_heads heads; attention biases only
 * where the checkpoint has them (Qwen2).
 */
final class LlamaLayer implements Layer {
    private final CausalSelfAttention attention;
    private final FeedForward feedForward;

    LlamaLayer(ModelConfig c, Weights w, int layer, Rope rope, ShardLayout shard, Ops k) {
        String p = "model.layers." + layer + ".";
        String a = p + "self_attn.";
        String m = p + "mlp.";
        attention = new CausalSelfAttention(c, w, layer, norm(c, w, p + "input_layernorm.weight"),
                new CausalSelfAttention.Names(a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight",
                        a + "o_proj.weight", bias(w, a + "q_proj.bias"), bias(w, a + "k_proj.bias"),
                        bias(w, a + "v_proj.bias"), bias(w, a + "o_proj.bias")), rope, shard, k);
        feedForward = new FeedForward(c, w, FeedForward.Activation.SWIGLU, norm(c, w, p + "post_attention_layernorm.weight"),
                m + "gate_proj.weight", null, m + "up_proj.weight", m + "down_proj.weight", null, shard, k);
    }

    /** The name when the checkpoint holds this bias (Qwen2: q, k, v; Llama with attention_bias: all four), else null. */
    private static String bias(Weights w, String name) {
        return w.has(name) ? name : null;
    }

    static Norm norm(ModelConfig c, Weights w, String name) {
        return Norm.rms(w.vector(name, c.dModel(), Split.NONE, 0, c.dModel()), c.normEps());
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
