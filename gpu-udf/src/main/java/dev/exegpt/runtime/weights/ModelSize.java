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

    /** The config of this size for a family (its choices: see {@link dev.exegpt.runtime.model.ModelFamily#sized}). */
    public ModelConfig config(Architecture arch) {
        return arch.family().sized(dModel, numHeads, ffnDim, numLayers, maxPositions, VOCAB_SIZE, GPT2_END_OF_TEXT);
    }
}
