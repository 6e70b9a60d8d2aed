package dev.exegpt.runtime.model.llama;

import static dev.exegpt.runtime.Require.require;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ConfigJson;
import dev.exegpt.runtime.model.HeadWeights;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ModelFamily;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.Rope;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.Weights;
import dev.exegpt.runtime.weights.RandomWeights;
import dev.exegpt.runtime.weights.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Llama family (Llama 2/3, SmolLM2 and other {@code LlamaForCausalLM} checkpoints) as transformers computes it:
 * RoPE (rotate-half layout, default scaling only), RMSNorm, SwiGLU, grouped-query attention, tied or untied
 * embeddings. It also runs the checkpoints of two models built the same way: Mistral (its sliding window, when set,
 * caps the positions, where full attention is exact) and Qwen2 (biases on q, k and v, loaded when the checkpoint
 * holds them).
 */
public final class LlamaFamily implements ModelFamily {
    /** One rotary table per shape: every layer and shard of an engine shares it (it is read-only). */
    private final Map<String, Rope> ropes = new ConcurrentHashMap<>();

    @Override
    public String modelType() {
        return "llama";
    }

    @Override
    public List<String> alsoReads() {
        return List.of("mistral", "qwen2");
    }

    @Override
    public boolean encoderDecoder() {
        return false;
    }

    @Override
    public ModelConfig configFromJson(ConfigJson j) {
        int hidden = j.num("hidden_size", 4096);
        int heads = j.num("num_attention_heads", 32);
        String act = j.str("hidden_act", "silu");
        require(act.equals("silu"), "hidden_act=%s: the Llama family supports silu", act);
        require(!j.bool("mlp_bias", false), "mlp_bias=true: biased feed-forward projections are not supported");
        double theta = j.dbl("rope_theta", 10000.0);
        String ropeType = "default";
        if (j.map().get("rope_parameters") instanceof Map<?, ?> rp) {            // transformers 5 writes this form
            if (rp.get("rope_theta") instanceof Number n) theta = n.doubleValue();
            if (rp.get("rope_type") != null) ropeType = rp.get("rope_type").toString();
        }
        if (j.map().get("rope_scaling") instanceof Map<?, ?> rs) {              // transformers 4 / Hub form
            Object t = rs.get("rope_type") != null ? rs.get("rope_type") : rs.get("type");
            if (t != null) ropeType = t.toString();
        }
        require(ropeType.equals("default"), "rope scaling type %s (Llama 3.1 / long-context RoPE) is not supported yet",
                ropeType);
        return new ModelConfig(Architecture.LLAMA, hidden, heads, j.num("head_dim", hidden / heads),
                j.num("intermediate_size", 11008), 0, j.num("num_hidden_layers", 32), j.num("vocab_size", 32000),
                maxPositions(j), (float) j.dbl("rms_norm_eps", 1e-6), j.bool("tie_word_embeddings", false),
                j.num("bos_token_id", -1), firstId(j.map().get("eos_token_id"), 2), -1,
                j.num("num_key_value_heads", heads), new LlamaOptions(theta));
    }

    /**
     * max_position_embeddings, capped by an active sliding window (Mistral's {@code sliding_window}; Qwen2's when
     * {@code use_sliding_window}): within the window, sliding-window attention is full causal attention.
     */
    private static int maxPositions(ConfigJson j) {
        int positions = j.num("max_position_embeddings", 2048);
        boolean windowed = j.str("model_type", "llama").equals("qwen2") ? j.bool("use_sliding_window", false)
                : j.has("sliding_window");
        return windowed && j.num("sliding_window", positions) > 0 ? Math.min(positions, j.num("sliding_window", positions))
                : positions;
    }

    /** Llama 3 lists several EOS ids; the engine stops on one, the first. */
    private static int firstId(Object v, int dflt) {
        if (v instanceof Number n) return n.intValue();
        if (v instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Number n) return n.intValue();
        return dflt;
    }

    @Override
    public Map<String, Object> configToJson(ModelConfig c) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model_type", "llama");
        j.put("architectures", List.of("LlamaForCausalLM"));
        j.put("hidden_size", c.dModel());
        j.put("intermediate_size", c.ffnDim());
        j.put("num_hidden_layers", c.numDecoderLayers());
        j.put("num_attention_heads", c.numHeads());
        j.put("num_key_value_heads", c.numKvHeads());
        j.put("head_dim", c.headDim());
        j.put("hidden_act", "silu");
        j.put("max_position_embeddings", c.maxPositions());
        j.put("rms_norm_eps", Double.parseDouble(Float.toString(c.normEps())));   // 1e-05, not its f32 widening
        j.put("rope_theta", LlamaOptions.of(c).ropeTheta());
        j.put("attention_bias", false);
        j.put("mlp_bias", false);
        j.put("vocab_size", c.vocabSize());
        j.put("tie_word_embeddings", c.tieWordEmbeddings());
        if (c.bosTokenId() >= 0) j.put("bos_token_id", c.bosTokenId());
        j.put("eos_token_id", c.eosTokenId());
        return j;
    }

    @Override
    public void validate(ModelConfig c) {
        double theta = LlamaOptions.of(c).ropeTheta();
        require(theta > 0, "rope_theta=%s: must be positive", theta);
        require(c.headDim() % 2 == 0, "head_dim=%s: RoPE rotates pairs, so it must be even", c.headDim());
    }

    /**
     * Checkpoints made here: grouped-query attention with a group of 2 (tiny, small) or 3 (base) query heads per
     * key/value head, SmolLM2's tied embeddings, Llama 2's rms_norm_eps 1e-5 and rope_theta 10,000, and GPT-2's
     * {@code <|endoftext|>} as both BOS and EOS (as GPT-2 itself uses it).
     */
    @Override
    public ModelConfig sized(int dModel, int numHeads, int ffnDim, int numLayers, int maxPositions, int vocabSize,
                             int endOfText) {
        int numKvHeads = numHeads % 3 == 0 ? numHeads / 3 : numHeads / 2;
        return new ModelConfig(Architecture.LLAMA, dModel, numHeads, dModel / numHeads, ffnDim, 0, numLayers,
                vocabSize, maxPositions, 1e-5f, true, endOfText, endOfText, -1, numKvHeads, new LlamaOptions(10000.0));
    }

    @Override
    public Layer layer(ModelConfig c, Weights w, Phase phase, int index, ShardLayout shard, Ops k) {
        double theta = LlamaOptions.of(c).ropeTheta();
        Rope rope = ropes.computeIfAbsent(c.headDim() + "/" + c.maxPositions() + "/" + theta,
                key -> new Rope(c.headDim(), c.maxPositions(), theta));
        return new LlamaLayer(c, w, index, rope, shard, k);
    }

    @Override
    public HeadWeights head(ModelConfig c, Weights w) {
        int d = c.dModel();
        int v = c.vocabSize();
        Tensor embeddingTensor = w.get("model.embed_tokens.weight", v, d);
        float[] embedding = embeddingTensor.data();
        Tensor lmHead = c.tieWordEmbeddings() ? embeddingTensor : w.get("lm_head.weight", v, d);
        return new HeadWeights(embedding, null, 0, null, LlamaLayer.norm(c, w, "model.norm.weight"), lmHead, 1f);
    }

    /** transformers' init: normal(0, initializer_range 0.02) for every matrix; norms near 1 so tests exercise them. */
    @Override
    public void randomWeights(ModelConfig c, RandomWeights w) {
        int d = c.dModel();
        int f = c.ffnDim();
        w.add("model.embed_tokens.weight", 0, 0.02, c.vocabSize(), d);
        for (int i = 0; i < c.numDecoderLayers(); i++) {
            String l = "model.layers." + i + ".";
            w.add(l + "input_layernorm.weight", 1, 0.05, d);
            w.add(l + "self_attn.q_proj.weight", 0, 0.02, c.innerDim(), d);
            w.add(l + "self_attn.k_proj.weight", 0, 0.02, c.kvDim(), d);
            w.add(l + "self_attn.v_proj.weight", 0, 0.02, c.kvDim(), d);
            w.add(l + "self_attn.o_proj.weight", 0, 0.02, d, c.innerDim());
            w.add(l + "post_attention_layernorm.weight", 1, 0.05, d);
            w.add(l + "mlp.gate_proj.weight", 0, 0.02, f, d);
            w.add(l + "mlp.up_proj.weight", 0, 0.02, f, d);
            w.add(l + "mlp.down_proj.weight", 0, 0.02, d, f);
        }
        w.add("model.norm.weight", 1, 0.05, d);
        if (!c.tieWordEmbeddings()) w.add("lm_head.weight", 0, 0.02, c.vocabSize(), d);
    }

    @Override
    public boolean gatedFeedForward(ModelConfig c) {
        return true;
    }

    /** Llama configs carry no pad id; the end-of-text id pads (as transformers' pipelines do for Llama). */
    @Override
    public int padTokenId(ModelConfig c) {
        return c.eosTokenId();
    }
}
