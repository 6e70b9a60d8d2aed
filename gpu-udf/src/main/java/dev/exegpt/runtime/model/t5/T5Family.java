package dev.exegpt.runtime.model.t5;

import static dev.exegpt.runtime.Require.require;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ConfigJson;
import dev.exegpt.runtime.model.FeedForward;
import dev.exegpt.runtime.model.HeadWeights;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ModelFamily;
import dev.exegpt.runtime.model.Norm;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.Split;
import dev.exegpt.runtime.model.Weights;
import dev.exegpt.runtime.weights.RandomWeights;
import dev.exegpt.runtime.weights.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** T5 (Raffel et al. 2020) as transformers' {@code T5ForConditionalGeneration}: config, weight names, layers, head. */
public final class T5Family implements ModelFamily {

    @Override
    public String modelType() {
        return "t5";
    }

    @Override
    public boolean encoderDecoder() {
        return true;
    }

    @Override
    public ModelConfig configFromJson(ConfigJson j) {
        String ffn = j.str("feed_forward_proj", "relu");
        require(ffn.equals("relu") || ffn.equals("gated-gelu"), "feed_forward_proj=%s: expected relu or gated-gelu", ffn);
        int numLayers = j.num("num_layers", 6);
        return new ModelConfig(Architecture.T5, j.num("d_model", 512), j.num("num_heads", 8), j.num("d_kv", 64),
                j.num("d_ff", 2048), numLayers, j.num("num_decoder_layers", numLayers), j.num("vocab_size", 32128),
                j.num("n_positions", 512), (float) j.dbl("layer_norm_epsilon", 1e-6), j.bool("tie_word_embeddings", true),
                -1, j.num("eos_token_id", 1), j.num("decoder_start_token_id", 0), j.num("num_heads", 8),
                new T5Options(j.num("relative_attention_num_buckets", 32), j.num("relative_attention_max_distance", 128),
                        ffn.equals("gated-gelu")));
    }

    @Override
    public Map<String, Object> configToJson(ModelConfig c) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model_type", "t5");
        j.put("architectures", List.of("T5ForConditionalGeneration"));
        j.put("d_model", c.dModel());
        j.put("d_kv", c.headDim());
        j.put("d_ff", c.ffnDim());
        j.put("num_heads", c.numHeads());
        j.put("num_layers", c.numEncoderLayers());
        j.put("num_decoder_layers", c.numDecoderLayers());
        j.put("vocab_size", c.vocabSize());
        j.put("n_positions", c.maxPositions());
        j.put("relative_attention_num_buckets", T5Options.of(c).numBuckets());
        j.put("relative_attention_max_distance", T5Options.of(c).maxDistance());
        j.put("layer_norm_epsilon", (double) c.normEps());
        j.put("feed_forward_proj", T5Options.of(c).gatedGelu() ? "gated-gelu" : "relu");
        j.put("tie_word_embeddings", c.tieWordEmbeddings());
        j.put("eos_token_id", c.eosTokenId());
        j.put("pad_token_id", padTokenId(c));
        j.put("decoder_start_token_id", c.decoderStartTokenId());
        return j;
    }

    @Override
    public void validate(ModelConfig c) {
        require(c.numKvHeads() == c.numHeads(), "T5: num_key_value_heads=%s must equal the %s heads", c.numKvHeads(),
                c.numHeads());
        T5Options o = T5Options.of(c);
        require(o.numBuckets() > 0 && o.maxDistance() > 0, "T5: relative attention buckets %s and max distance %s"
                + " must be positive", o.numBuckets(), o.maxDistance());
    }

    /** T5 v1.0 shapes (ReLU, tied head), at most 512 positions; the decoder starts from id 0. */
    @Override
    public ModelConfig sized(int dModel, int numHeads, int ffnDim, int numLayers, int maxPositions, int vocabSize,
                             int endOfText) {
        return new ModelConfig(Architecture.T5, dModel, numHeads, dModel / numHeads, ffnDim, numLayers, numLayers,
                vocabSize, Math.min(maxPositions, 512), 1e-6f, true, -1, endOfText, 0, numHeads,
                new T5Options(32, 128, false));
    }

    @Override
    public Layer layer(ModelConfig c, Weights w, Phase phase, int index, ShardLayout shard, Ops k) {
        return phase == Phase.ENCODE
                ? new T5EncoderLayer(c, w, index, shard, k)
                : new T5DecoderLayer(c, w, index, shard, k);
    }

    /** T5's feed-forward sub-layer under {@code prefix} ("encoder.block.3.layer.1."): no biases, RMS norm. */
    static FeedForward feedForward(ModelConfig c, Weights w, String prefix, ShardLayout shard, Ops k) {
        int d = c.dModel();
        Norm norm = Norm.rms(w.vector(prefix + "layer_norm.weight", d, Split.NONE, 0, d), c.normEps());
        String ff = prefix + "DenseReluDense.";
        return T5Options.of(c).gatedGelu()
                ? new FeedForward(c, w, FeedForward.Activation.GATED_GELU, norm, ff + "wi_0.weight", null,
                        ff + "wi_1.weight", ff + "wo.weight", null, shard, k)
                : new FeedForward(c, w, FeedForward.Activation.RELU, norm, ff + "wi.weight", null, null,
                        ff + "wo.weight", null, shard, k);
    }

    @Override
    public HeadWeights head(ModelConfig c, Weights w) {
        int d = c.dModel();
        int v = c.vocabSize();
        Tensor embeddingTensor = w.get("shared.weight", v, d);
        float[] embedding = embeddingTensor.data();
        Tensor lmHead = c.tieWordEmbeddings() ? embeddingTensor : w.get("lm_head.weight", v, d);
        // T5 with tied embeddings rescales the decoder output by d_model^-0.5 before the head (Mesh TensorFlow).
        float lmScale = c.tieWordEmbeddings() ? (float) Math.pow(d, -0.5) : 1f;
        return new HeadWeights(embedding, null, 0, w.vector("encoder.final_layer_norm.weight", d, Split.NONE, 0, d),
                Norm.rms(w.vector("decoder.final_layer_norm.weight", d, Split.NONE, 0, d), c.normEps()), lmHead, lmScale);
    }

    @Override
    public void randomWeights(ModelConfig c, RandomWeights w) {
        int d = c.dModel();
        w.add("shared.weight", 0, 1.0, c.vocabSize(), d);
        for (int i = 0; i < c.numEncoderLayers(); i++) {
            String b = "encoder.block." + i + ".layer.";
            attention(c, w, b + "0.SelfAttention.", i == 0);
            w.add(b + "0.layer_norm.weight", 1, 0.05, d);
            feedForward(c, w, b + "1.DenseReluDense.");
            w.add(b + "1.layer_norm.weight", 1, 0.05, d);
        }
        w.add("encoder.final_layer_norm.weight", 1, 0.05, d);
        for (int i = 0; i < c.numDecoderLayers(); i++) {
            String b = "decoder.block." + i + ".layer.";
            attention(c, w, b + "0.SelfAttention.", i == 0);
            w.add(b + "0.layer_norm.weight", 1, 0.05, d);
            attention(c, w, b + "1.EncDecAttention.", false);
            w.add(b + "1.layer_norm.weight", 1, 0.05, d);
            feedForward(c, w, b + "2.DenseReluDense.");
            w.add(b + "2.layer_norm.weight", 1, 0.05, d);
        }
        w.add("decoder.final_layer_norm.weight", 1, 0.05, d);
        if (!c.tieWordEmbeddings()) w.add("lm_head.weight", 0, Math.pow(d, -0.5), c.vocabSize(), d);
    }

    /** Scaled as transformers' T5 initialiser (fan-in based), so activations stay in range. */
    private static void attention(ModelConfig c, RandomWeights w, String prefix, boolean withBias) {
        int d = c.dModel();
        int inner = c.innerDim();
        w.add(prefix + "q.weight", 0, Math.pow((double) d * c.headDim(), -0.5), inner, d);
        w.add(prefix + "k.weight", 0, Math.pow(d, -0.5), inner, d);
        w.add(prefix + "v.weight", 0, Math.pow(d, -0.5), inner, d);
        w.add(prefix + "o.weight", 0, Math.pow(inner, -0.5), d, inner);
        if (withBias) w.add(prefix + "relative_attention_bias.weight", 0, Math.pow(d, -0.5), T5Options.of(c).numBuckets(), c.numHeads());
    }

    private static void feedForward(ModelConfig c, RandomWeights w, String prefix) {
        int d = c.dModel();
        if (T5Options.of(c).gatedGelu()) {
            w.add(prefix + "wi_0.weight", 0, Math.pow(d, -0.5), c.ffnDim(), d);
            w.add(prefix + "wi_1.weight", 0, Math.pow(d, -0.5), c.ffnDim(), d);
        } else {
            w.add(prefix + "wi.weight", 0, Math.pow(d, -0.5), c.ffnDim(), d);
        }
        w.add(prefix + "wo.weight", 0, Math.pow(c.ffnDim(), -0.5), d, c.ffnDim());
    }

    @Override
    public boolean gatedFeedForward(ModelConfig c) {
        return T5Options.of(c).gatedGelu();
    }

    @Override
    public int padTokenId(ModelConfig c) {
        return 0;
    }
}
