package dev.exegpt.runtime.weights;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;

/**
 * Sizes of the generated checkpoints: tiny for tests (seconds), small for the profiler and quick benchmarks, base at
 * GPT-2-small / T5-base scale (OPT-125m shapes; T5 12+12 layers of d_model 768). All use the GPT-2 BPE vocabulary
 * padded to 50,272 rows, as OPT does, and the GPT-2 end-of-text id for T5's EOS.
 */
public enum ModelSize {
    TINY(64, 4, 128, 2, 128),
    SMALL(512, 8, 2048, 6, 1024),
    BASE(768, 12, 3072, 12, 2048);

    /** OPT's padded GPT-2 vocabulary. */
    public static final int VOCAB_SIZE = 50272;
    /** {@code <|endoftext|>} in GPT-2's BPE; T5 checkpoints made here stop on it. */
    public static final int GPT2_END_OF_TEXT = 50256;

    private final int dModel;
    private final int numHeads;
    private final int ffnDim;
    private final int numLayers;
    private final int maxPositions;

    ModelSize(int dModel, int numHeads, int ffnDim, int numLayers, int maxPositions) {
        this.dModel = dModel;
        this.numHeads = numHeads;
        this.ffnDim = ffnDim;
        this.numLayers = numLayers;
        this.maxPositions = maxPositions;
    }

    /** Parses tiny, small or base (any case). */
    public static ModelSize parse(String s) {
        for (ModelSize m : values()) if (m.name().equalsIgnoreCase(s)) return m;
        throw new IllegalArgumentException("size '" + s + "': expected tiny, small or base");
    }

    /** The config of this size for an architecture (T5: ReLU feed-forward and tied head, as T5 v1.0). */
    public ModelConfig config(Architecture arch) {
        int headDim = dModel / numHeads;
        return arch == Architecture.T5
                ? new ModelConfig(arch, dModel, numHeads, headDim, ffnDim, numLayers, numLayers, VOCAB_SIZE,
                        Math.min(maxPositions, 512), 32, 128, 1e-6f, false, true, -1, GPT2_END_OF_TEXT, 0)
                : new ModelConfig(arch, dModel, numHeads, headDim, ffnDim, 0, numLayers, VOCAB_SIZE, maxPositions,
                        0, 0, 1e-5f, false, true, 2, 2, -1);
    }
}
