package dev.exegpt.scheduler.cost;

import static dev.exegpt.scheduler.Require.require;

/**
 * The shape of a transformer, enough for FLOP, byte and memory counts. Decoder-only models have no encoder layers:
 * their "encode" is the prompt prefill through the decoder layers (PAPER.md §2.4).
 *
 * @param gatedFfn true when the feed-forward has a gate projection (Llama), false for OPT/GPT-3/T5 (original)
 * @param numKvHeads key/value heads: numHeads for multi-head attention, fewer under grouped-query attention
 *     (Llama 3, Qwen2, Mistral), which shrinks the k and v projections and the KV cache by numHeads / numKvHeads
 */
public record ModelSpec(String name, boolean encoderDecoder, int numEncoderLayers, int numDecoderLayers,
                        int hiddenSize, int numHeads, int headDim, int ffnSize, int vocabSize, boolean gatedFfn,
                        int numKvHeads) {
    public static final int BYTES_PER_PARAM = 2;   // FP16, as the paper (PAPER.md §11)

    public ModelSpec {
        require(numDecoderLayers >= 1, "numDecoderLayers must be >= 1, got %s", numDecoderLayers);
        require(encoderDecoder == (numEncoderLayers > 0),
                "numEncoderLayers must be > 0 exactly when encoderDecoder (%s), got %s", encoderDecoder, numEncoderLayers);
        require(hiddenSize > 0 && numHeads > 0 && headDim > 0 && ffnSize > 0,
                "hiddenSize, numHeads, headDim, ffnSize must be > 0, got %s, %s, %s, %s", hiddenSize, numHeads, headDim, ffnSize);
        require(numKvHeads > 0 && numHeads % numKvHeads == 0, "numKvHeads must divide numHeads %s, got %s", numHeads,
                numKvHeads);
    }

    /** Multi-head attention: as many key/value heads as query heads. */
    public ModelSpec(String name, boolean encoderDecoder, int numEncoderLayers, int numDecoderLayers, int hiddenSize,
                     int numHeads, int headDim, int ffnSize, int vocabSize, boolean gatedFfn) {
        this(name, encoderDecoder, numEncoderLayers, numDecoderLayers, hiddenSize, numHeads, headDim, ffnSize,
                vocabSize, gatedFfn, numHeads);
    }

    public int attentionDim() {
        return numHeads * headDim;
    }

    /** Width of k and v, and of one token's KV-cache row per layer: key/value heads times head dimension. */
    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Layers the prompt passes through: the encoder (encoder-decoder) or the decoder stack (prefill). */
    public int numPrefillLayers() {
        return encoderDecoder ? numEncoderLayers : numDecoderLayers;
    }

    public long paramsPerEncoderLayer() {
        return 2L * hiddenSize * (attentionDim() + kvDim()) + (gatedFfn ? 3L : 2L) * hiddenSize * ffnSize;
    }

    /** A decoder layer: self-attention, feed-forward, and cross-attention when the model has an encoder. */
    public long paramsPerDecoderLayer() {
        return paramsPerEncoderLayer() + (encoderDecoder ? 4L * hiddenSize * attentionDim() : 0);
    }

    public long paramsOther() {
        return (long) vocabSize * hiddenSize;
    }

    public long totalParams() {
        return numEncoderLayers * paramsPerEncoderLayer() + numDecoderLayers * paramsPerDecoderLayer() + paramsOther();
    }

    /** KV-cache bytes one token adds to one decoder layer (keys and values, FP16). */
    public long kvBytesPerTokenPerLayer() {
        return 2L * kvDim() * BYTES_PER_PARAM;
    }
}
