package dev.exegpt.runtime.model.opt;

import static dev.exegpt.runtime.Require.require;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ConfigJson;
import dev.exegpt.runtime.model.HeadWeights;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ModelFamily;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.Weights;
import dev.exegpt.runtime.weights.RandomWeights;
import dev.exegpt.runtime.weights.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** OPT (Zhang et al. 2022) as transformers' {@code OPTForCausalLM}: config, weight names, layer, head. */
public final class OptFamily implements ModelFamily {
    private static final String P = "model.decoder.";
    /** OPT's learned position table has two extra rows in front (fairseq's padding offset). */
    static final int POSITION_OFFSET = 2;

    @Override
    public String modelType() {
        return "opt";
    }

    @Override
    public boolean encoderDecoder() {
        return false;
    }

    @Override
    public ModelConfig configFromJson(ConfigJson j) {
        int hidden = j.num("hidden_size", 768);
        int heads = j.num("num_attention_heads", 12);
        require(j.bool("do_layer_norm_before", true), "do_layer_norm_before=false (post-LN OPT-350m) is not supported");
        require(j.num("word_embed_proj_dim", hidden) == hidden,
                "word_embed_proj_dim=%s != hidden_size=%s (OPT-350m projections) is not supported",
                j.num("word_embed_proj_dim", hidden), hidden);
        String act = j.str("activation_function", "relu");
        require(act.equals("relu"), "activation_function=%s: OPT supports relu", act);
        return new ModelConfig(Architecture.OPT, hidden, heads, hidden / heads, j.num("ffn_dim", 3072), 0,
                j.num("num_hidden_layers", 12), j.num("vocab_size", 50272), j.num("max_position_embeddings", 2048),
                1e-5f, j.bool("tie_word_embeddings", true), j.num("bos_token_id", 2), j.num("eos_token_id", 2), -1,
                heads, ModelConfig.Options.NONE);
    }

    @Override
    public Map<String, Object> configToJson(ModelConfig c) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model_type", "opt");
        j.put("architectures", List.of("OPTForCausalLM"));
        j.put("hidden_size", c.dModel());
        j.put("num_attention_heads", c.numHeads());
        j.put("ffn_dim", c.ffnDim());
        j.put("num_hidden_layers", c.numDecoderLayers());
        j.put("vocab_size", c.vocabSize());
        j.put("max_position_embeddings", c.maxPositions());
        j.put("word_embed_proj_dim", c.dModel());
        j.put("do_layer_norm_before", true);
        j.put("activation_function", "relu");
        j.put("tie_word_embeddings", c.tieWordEmbeddings());
        j.put("bos_token_id", c.bosTokenId());
        j.put("eos_token_id", c.eosTokenId());
        j.put("pad_token_id", padTokenId(c));
        return j;
    }

    @Override
    public void validate(ModelConfig c) {
        require(c.numHeads() * c.headDim() == c.dModel(), "OPT heads %s * head_dim %s must equal hidden_size %s",
                c.numHeads(), c.headDim(), c.dModel());
        require(c.numKvHeads() == c.numHeads(), "OPT: num_key_value_heads=%s must equal the %s heads",
                c.numKvHeads(), c.numHeads());
    }

    /** OPT's BOS and EOS are both {@code </s>} (2); checkpoints made here keep id 2. */
    @Override
    public ModelConfig sized(int dModel, int numHeads, int ffnDim, int numLayers, int maxPositions, int vocabSize,
                             int endOfText) {
        return new ModelConfig(Architecture.OPT, dModel, numHeads, dModel / numHeads, ffnDim, 0, numLayers, vocabSize,
                maxPositions, 1e-5f, true, 2, 2, -1, numHeads, ModelConfig.Options.NONE);
    }

    @Override
    public Layer layer(ModelConfig c, Weights w, Phase phase, int index, ShardLayout shard, Ops k) {
        return new OptLayer(c, w, index, shard, k);
    }

    @Override
    public HeadWeights head(ModelConfig c, Weights w) {
        int d = c.dModel();
        int v = c.vocabSize();
        Tensor embeddingTensor = w.get(P + "embed_tokens.weight", v, d);
        float[] embedding = embeddingTensor.data();
        float[] positions = w.get(P + "embed_positions.weight", c.maxPositions() + POSITION_OFFSET, d).data();
        Tensor lmHead = c.tieWordEmbeddings() ? embeddingTensor : w.get("lm_head.weight", v, d);
        return new HeadWeights(embedding, positions, POSITION_OFFSET, null,
                OptLayer.norm(c, w, P + "final_layer_norm."), lmHead, 1f);
    }

    @Override
    public void randomWeights(ModelConfig c, RandomWeights w) {
        int d = c.dModel();
        w.add(P + "embed_tokens.weight", 0, 0.02, c.vocabSize(), d);
        w.add(P + "embed_positions.weight", 0, 0.02, c.maxPositions() + POSITION_OFFSET, d);
        for (int i = 0; i < c.numDecoderLayers(); i++) {
            String l = P + "layers." + i + ".";
            for (String proj : new String[] {"k_proj", "v_proj", "q_proj", "out_proj"}) {
                w.add(l + "self_attn." + proj + ".weight", 0, 0.02, d, d);
                w.add(l + "self_attn." + proj + ".bias", 0, 0.02, d);
            }
            w.add(l + "self_attn_layer_norm.weight", 1, 0.05, d);
            w.add(l + "self_attn_layer_norm.bias", 0, 0.05, d);
            w.add(l + "fc1.weight", 0, 0.02, c.ffnDim(), d);
            w.add(l + "fc1.bias", 0, 0.02, c.ffnDim());
            w.add(l + "fc2.weight", 0, 0.02, d, c.ffnDim());
            w.add(l + "fc2.bias", 0, 0.02, d);
            w.add(l + "final_layer_norm.weight", 1, 0.05, d);
            w.add(l + "final_layer_norm.bias", 0, 0.05, d);
        }
        w.add(P + "final_layer_norm.weight", 1, 0.05, d);
        w.add(P + "final_layer_norm.bias", 0, 0.05, d);
        if (!c.tieWordEmbeddings()) w.add("lm_head.weight", 0, 0.02, c.vocabSize(), d);
    }

    @Override
    public boolean gatedFeedForward(ModelConfig c) {
        return false;
    }

    @Override
    public int numLearnedPositions(ModelConfig c) {
        return c.maxPositions() + POSITION_OFFSET;
    }

    @Override
    public int padTokenId(ModelConfig c) {
        return 1;
    }
}
