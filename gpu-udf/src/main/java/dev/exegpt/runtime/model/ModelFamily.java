package dev.exegpt.runtime.model;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.weights.RandomWeights;
import java.util.List;
import java.util.Map;

/**
 * One model family (ARCHITECTURE.md move 2): its {@code config.json} schema, its weight names, and its layers written
 * over the shared blocks ({@link CausalSelfAttention}, {@link FeedForward}, {@link Norm}, {@link Rope},
 * {@link AttentionOps}), over the operations of a backend ({@link Ops}). A family is a package under {@code model/} and one line in {@link Architecture}.
 */
public interface ModelFamily {

    /** The {@code model_type} of its {@code config.json}, e.g. {@code "llama"}. */
    String modelType();

    /**
     * Other {@code model_type}s whose checkpoints this family runs as they are (vLLM's registry maps
     * {@code MistralForCausalLM} to its Llama implementation the same way); configs written here use
     * {@link #modelType}.
     */
    default List<String> alsoReads() {
        return List.of();
    }

    /** Whether prompts go through an encoder (T5), or are prefilled through the decoder layers (decoder-only). */
    boolean encoderDecoder();

    /** Reads the family's {@code config.json}; unsupported options fail with the key and the value. */
    ModelConfig configFromJson(ConfigJson j);

    /** The {@code config.json} transformers reads back as the same model (model_type, architectures, fields). */
    Map<String, Object> configToJson(ModelConfig c);

    /** Checks what only this family requires of a config (e.g. OPT: heads x head_dim = hidden). */
    default void validate(ModelConfig c) {}

    /**
     * The config of a checkpoint generated here ({@code exegpt model init}) at a size: dModel, heads, feed-forward,
     * layers and positions from the size; vocabulary {@code vocabSize} with {@code endOfText} as its EOS.
     */
    ModelConfig sized(int dModel, int numHeads, int ffnDim, int numLayers, int maxPositions, int vocabSize,
                      int endOfText);

    /**
     * Layer {@code index} of the stack that runs {@code phase} (for a decoder-only family, prefill and decode run
     * the same layer), as the tensor-parallel shard {@code shard} holds it, its weights prepared by ops (the
     * backend of the device that runs it).
     */
    Layer layer(ModelConfig c, Weights w, Phase phase, int index, ShardLayout shard, Ops ops);

    /** The embeddings, final norms and LM head. */
    HeadWeights head(ModelConfig c, Weights w);

    /** Adds seeded random tensors with the family's names and shapes, in checkpoint order. */
    void randomWeights(ModelConfig c, RandomWeights w);

    /** The pad id the family's configs carry (generation_config.json, tokenizer padding). */
    int padTokenId(ModelConfig c);

    /** Layers in the stack that runs phase: encoder layers for an encoder-decoder's ENCODE, decoder layers otherwise. */
    default int numLayers(ModelConfig c, Phase phase) {
        return encoderDecoder() && phase == Phase.ENCODE ? c.numEncoderLayers() : c.numDecoderLayers();
    }

    /** Whether the feed-forward has a gate projection (three matrices: T5 v1.1's gated-GELU, Llama's SwiGLU). */
    boolean gatedFeedForward(ModelConfig c);

    /** Rows of a learned position table added at the embedding (OPT); 0 for relative or rotary positions. */
    default int numLearnedPositions(ModelConfig c) {
        return 0;
    }

    /** Whether prompts start with {@code bos_token_id} (decoder-only families with one). */
    default boolean prependsBos(ModelConfig c) {
        return !encoderDecoder() && c.bosTokenId() >= 0;
    }
}
