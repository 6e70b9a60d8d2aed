package dev.exegpt.runtime.model;

import static dev.exegpt.runtime.Require.require;

import dev.exegpt.runtime.weights.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The shape of a model, read from a Hugging Face style {@code config.json} by its family
 * ({@link ModelFamily#configFromJson}, chosen by {@code model_type}): the fields every family has, and in
 * {@link #options} what only one family has (T5's relative buckets and feed-forward variant in
 * {@code model/t5/T5Options}, Llama's rotary base in {@code model/llama/LlamaOptions}), read and written by that
 * family alone.
 *
 * @param architecture the family ({@code model_type}): T5, OPT or LLAMA
 * @param dModel hidden size ({@code d_model} / {@code hidden_size})
 * @param numHeads query heads per layer
 * @param headDim dimension per head ({@code d_kv} for T5; {@code head_dim} or hidden / heads otherwise)
 * @param ffnDim feed-forward inner dimension ({@code d_ff} / {@code ffn_dim} / {@code intermediate_size})
 * @param numEncoderLayers encoder layers (0 for decoder-only families)
 * @param numDecoderLayers decoder layers
 * @param vocabSize rows of the embedding
 * @param maxPositions longest sequence accepted, tokens ({@code max_position_embeddings}; T5: {@code n_positions},
 *     512 when absent, since relative positions have no hard limit)
 * @param normEps epsilon of the norms
 * @param tieWordEmbeddings LM head shares the input embedding
 * @param bosTokenId prepended to prompts by decoder-only families (-1: none)
 * @param eosTokenId generation stops here unless fixed-length
 * @param decoderStartTokenId an encoder-decoder's first decoder input token (-1 for decoder-only families)
 * @param numKvHeads key/value heads (grouped-query attention: numHeads is a multiple of it; equal for T5 and OPT)
 * @param options the family's own fields ({@link Options#NONE} for a family without any)
 */
public record ModelConfig(Architecture architecture, int dModel, int numHeads, int headDim, int ffnDim,
                          int numEncoderLayers, int numDecoderLayers, int vocabSize, int maxPositions, float normEps,
                          boolean tieWordEmbeddings, int bosTokenId, int eosTokenId, int decoderStartTokenId,
                          int numKvHeads, Options options) {

    /** What only one family's config holds; the family reads its own type of it. */
    public interface Options {
        /** No fields of its own (OPT). */
        Options NONE = new Options() {
            @Override
            public String toString() {
                return "none";
            }
        };
    }

    public ModelConfig(Architecture architecture, int dModel, int numHeads, int headDim, int ffnDim,
                       int numEncoderLayers, int numDecoderLayers, int vocabSize, int maxPositions, float normEps,
                       boolean tieWordEmbeddings, int bosTokenId, int eosTokenId, int decoderStartTokenId,
                       int numKvHeads, Options options) {
        require(architecture != null, "architecture: must be given");
        require(dModel > 0, "d_model=%s: must be positive", dModel);
        require(numHeads > 0, "num_heads=%s: must be positive", numHeads);
        require(headDim > 0, "head_dim=%s: must be positive", headDim);
        require(ffnDim > 0, "ffn_dim=%s: must be positive", ffnDim);
        require(numDecoderLayers > 0, "decoder layers=%s: must be positive", numDecoderLayers);
        require(architecture.family().encoderDecoder() ? numEncoderLayers > 0 : numEncoderLayers == 0,
                "encoder layers=%s: an encoder-decoder needs at least one, a decoder-only model none", numEncoderLayers);
        require(vocabSize > 0, "vocab_size=%s: must be positive", vocabSize);
        require(maxPositions > 0, "max positions=%s: must be positive", maxPositions);
        require(numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_key_value_heads=%s: must be positive and divide num_attention_heads=%s", numKvHeads, numHeads);
        require(eosTokenId >= 0 && eosTokenId < vocabSize, "eos_token_id=%s: must be in [0, %s)", eosTokenId, vocabSize);
        require(options != null, "options: must be given (Options.NONE for none)");
        this.architecture = architecture;
        this.dModel = dModel;
        this.numHeads = numHeads;
        this.headDim = headDim;
        this.ffnDim = ffnDim;
        this.numEncoderLayers = numEncoderLayers;
        this.numDecoderLayers = numDecoderLayers;
        this.vocabSize = vocabSize;
        this.maxPositions = maxPositions;
        this.normEps = normEps;
        this.tieWordEmbeddings = tieWordEmbeddings;
        this.bosTokenId = bosTokenId;
        this.eosTokenId = eosTokenId;
        this.decoderStartTokenId = decoderStartTokenId;
        this.numKvHeads = numKvHeads;
        this.options = options;
        architecture.family().validate(this);           // after the fields are set: the family reads them
    }

    /** The family this config belongs to. */
    public ModelFamily family() {
        return architecture.family();
    }

    /** Whether the model has an encoder (T5) rather than a prompt prefill through the decoder. */
    public boolean encoderDecoder() {
        return architecture.family().encoderDecoder();
    }

    /** Heads times head dimension: width of q and of the attention output. */
    public int innerDim() {
        return numHeads * headDim;
    }

    /** Key/value heads times head dimension: width of k, v and of one position of the KV cache. */
    public int kvDim() {
        return numKvHeads * headDim;
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

    /** Builds the config from a parsed config.json: the family named by {@code model_type} reads it. */
    public static ModelConfig fromJson(Map<String, Object> j) {
        Object type = j.get("model_type");
        return Architecture.ofModelType(type == null ? "" : type.toString()).family().configFromJson(new ConfigJson(j));
    }

    /** The config.json a Hugging Face loader would accept for this model. */
    public Map<String, Object> toJson() {
        Map<String, Object> j = architecture.family().configToJson(this);
        j.put("torch_dtype", "float32");
        return j;
    }
}
