package dev.exegpt.runtime.model;

import static dev.exegpt.runtime.Require.require;

import dev.exegpt.runtime.weights.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape and options of a model, read from a Hugging Face style {@code config.json}.
 *
 * @param architecture T5 or OPT ({@code model_type})
 * @param dModel hidden size ({@code d_model} / {@code hidden_size})
 * @param numHeads attention heads per layer
 * @param headDim dimension per head ({@code d_kv} for T5; hidden / heads for OPT)
 * @param ffnDim feed-forward inner dimension ({@code d_ff} / {@code ffn_dim})
 * @param numEncoderLayers encoder layers (0 for OPT)
 * @param numDecoderLayers decoder layers
 * @param vocabSize rows of the embedding
 * @param maxPositions longest sequence accepted, tokens (OPT: {@code max_position_embeddings}; T5: {@code n_positions},
 *     512 when absent, since relative positions have no hard limit)
 * @param numBuckets T5 relative attention buckets
 * @param maxDistance T5 relative attention max distance
 * @param normEps epsilon of the layer norms
 * @param gatedGelu T5 feed-forward is gated-GELU ({@code feed_forward_proj = "gated-gelu"}) instead of ReLU
 * @param tieWordEmbeddings LM head shares the input embedding
 * @param bosTokenId OPT prepends it to prompts (-1: none)
 * @param eosTokenId generation stops here unless fixed-length
 * @param decoderStartTokenId T5 decoder's first input token
 */
public record ModelConfig(Architecture architecture, int dModel, int numHeads, int headDim, int ffnDim,
                          int numEncoderLayers, int numDecoderLayers, int vocabSize, int maxPositions,
                          int numBuckets, int maxDistance, float normEps, boolean gatedGelu,
                          boolean tieWordEmbeddings, int bosTokenId, int eosTokenId, int decoderStartTokenId) {

    /** OPT's learned position table has two extra rows in front (fairseq's padding offset). */
    public static final int OPT_POSITION_OFFSET = 2;

    public ModelConfig {
        require(dModel > 0, "d_model=%s: must be positive", dModel);
        require(numHeads > 0, "num_heads=%s: must be positive", numHeads);
        require(headDim > 0, "head_dim=%s: must be positive", headDim);
        require(ffnDim > 0, "ffn_dim=%s: must be positive", ffnDim);
        require(numDecoderLayers > 0, "decoder layers=%s: must be positive", numDecoderLayers);
        require(architecture == Architecture.T5 ? numEncoderLayers > 0 : numEncoderLayers == 0,
                "encoder layers=%s: T5 needs at least one, OPT none", numEncoderLayers);
        require(vocabSize > 0, "vocab_size=%s: must be positive", vocabSize);
        require(maxPositions > 0, "max positions=%s: must be positive", maxPositions);
        require(architecture != Architecture.OPT || numHeads * headDim == dModel,
                "OPT heads %s * head_dim %s must equal hidden_size %s", numHeads, headDim, dModel);
        require(eosTokenId >= 0 && eosTokenId < vocabSize, "eos_token_id=%s: must be in [0, %s)", eosTokenId, vocabSize);
    }

    /** Heads times head dimension: width of q, k and v. */
    public int innerDim() {
        return numHeads * headDim;
    }

    /** Reads {@code dir/config.json}. */
    public static ModelConfig read(Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) throw new IOException(file + ": not found (a model directory holds config.json"
                + " and model.safetensors)");
        try {
            return fromJson(Json.parseObject(Files.readString(file)));
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Builds the config from a parsed config.json. */
    public static ModelConfig fromJson(Map<String, Object> j) {
        String type = str(j, "model_type", "");
        if (type.equals("t5")) {
            int dModel = num(j, "d_model", 512);
            String ffn = str(j, "feed_forward_proj", "relu");
            require(ffn.equals("relu") || ffn.equals("gated-gelu"),
                    "feed_forward_proj=%s: expected relu or gated-gelu", ffn);
            int numLayers = num(j, "num_layers", 6);
            return new ModelConfig(Architecture.T5, dModel, num(j, "num_heads", 8), num(j, "d_kv", 64),
                    num(j, "d_ff", 2048), numLayers, num(j, "num_decoder_layers", numLayers),
                    num(j, "vocab_size", 32128), num(j, "n_positions", 512),
                    num(j, "relative_attention_num_buckets", 32), num(j, "relative_attention_max_distance", 128),
                    (float) dbl(j, "layer_norm_epsilon", 1e-6), ffn.equals("gated-gelu"),
                    bool(j, "tie_word_embeddings", true), -1, num(j, "eos_token_id", 1),
                    num(j, "decoder_start_token_id", 0));
        }
        if (type.equals("opt")) {
            int hidden = num(j, "hidden_size", 768);
            int heads = num(j, "num_attention_heads", 12);
            require(bool(j, "do_layer_norm_before", true), "do_layer_norm_before=false (post-LN OPT-350m) is not supported");
            require(num(j, "word_embed_proj_dim", hidden) == hidden,
                    "word_embed_proj_dim=%s != hidden_size=%s (OPT-350m projections) is not supported",
                    num(j, "word_embed_proj_dim", hidden), hidden);
            String act = str(j, "activation_function", "relu");
            require(act.equals("relu"), "activation_function=%s: OPT supports relu", act);
            return new ModelConfig(Architecture.OPT, hidden, heads, hidden / heads, num(j, "ffn_dim", 3072), 0,
                    num(j, "num_hidden_layers", 12), num(j, "vocab_size", 50272),
                    num(j, "max_position_embeddings", 2048), 0, 0, 1e-5f, false,
                    bool(j, "tie_word_embeddings", true), num(j, "bos_token_id", 2), num(j, "eos_token_id", 2), -1);
        }
        throw new IllegalArgumentException("model_type='" + type + "': expected t5 or opt");
    }

    /** The config.json a Hugging Face loader would accept for this model. */
    public Map<String, Object> toJson() {
        Map<String, Object> j = new LinkedHashMap<>();
        if (architecture == Architecture.T5) {
            j.put("model_type", "t5");
            j.put("architectures", List.of("T5ForConditionalGeneration"));
            j.put("d_model", dModel);
            j.put("d_kv", headDim);
            j.put("d_ff", ffnDim);
            j.put("num_heads", numHeads);
            j.put("num_layers", numEncoderLayers);
            j.put("num_decoder_layers", numDecoderLayers);
            j.put("vocab_size", vocabSize);
            j.put("n_positions", maxPositions);
            j.put("relative_attention_num_buckets", numBuckets);
            j.put("relative_attention_max_distance", maxDistance);
            j.put("layer_norm_epsilon", (double) normEps);
            j.put("feed_forward_proj", gatedGelu ? "gated-gelu" : "relu");
            j.put("tie_word_embeddings", tieWordEmbeddings);
            j.put("eos_token_id", eosTokenId);
            j.put("pad_token_id", 0);
            j.put("decoder_start_token_id", decoderStartTokenId);
        } else {
            j.put("model_type", "opt");
            j.put("architectures", List.of("OPTForCausalLM"));
            j.put("hidden_size", dModel);
            j.put("num_attention_heads", numHeads);
            j.put("ffn_dim", ffnDim);
            j.put("num_hidden_layers", numDecoderLayers);
            j.put("vocab_size", vocabSize);
            j.put("max_position_embeddings", maxPositions);
            j.put("word_embed_proj_dim", dModel);
            j.put("do_layer_norm_before", true);
            j.put("activation_function", "relu");
            j.put("tie_word_embeddings", tieWordEmbeddings);
            j.put("bos_token_id", bosTokenId);
            j.put("eos_token_id", eosTokenId);
            j.put("pad_token_id", 1);
        }
        j.put("torch_dtype", "float32");
        return j;
    }

    private static String str(Map<String, Object> j, String key, String dflt) {
        Object v = j.get(key);
        return v == null ? dflt : v.toString();
    }

    private static int num(Map<String, Object> j, String key, int dflt) {
        Object v = j.get(key);
        return v instanceof Number n ? n.intValue() : dflt;
    }

    private static double dbl(Map<String, Object> j, String key, double dflt) {
        Object v = j.get(key);
        return v instanceof Number n ? n.doubleValue() : dflt;
    }

    private static boolean bool(Map<String, Object> j, String key, boolean dflt) {
        Object v = j.get(key);
        return v instanceof Boolean b ? b : dflt;
    }
}
