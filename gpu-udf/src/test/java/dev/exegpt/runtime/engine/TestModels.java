package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.model.t5.T5Options;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Seeded tiny checkpoints written into target/ (never skipped, never committed). */
final class TestModels {
    static final long SEED = 1234;

    private TestModels() {}

    static ModelConfig tinyOpt() {
        return ModelSize.TINY.config(Architecture.OPT);
    }

    /** T5 v1.0 style: ReLU feed-forward, tied LM head. */
    static ModelConfig tinyT5() {
        return ModelSize.TINY.config(Architecture.T5);
    }

    /** T5 v1.1 style: gated-GELU feed-forward, separate LM head. */
    static ModelConfig tinyT5Gated() {
        ModelConfig c = tinyT5();
        T5Options o = T5Options.of(c);
        return new ModelConfig(c.architecture(), c.dModel(), c.numHeads(), c.headDim(), c.ffnDim(), c.numEncoderLayers(),
                3, c.vocabSize(), c.maxPositions(), c.normEps(), false, c.bosTokenId(), c.eosTokenId(),
                c.decoderStartTokenId(), c.numKvHeads(), new T5Options(o.numBuckets(), o.maxDistance(), true));
    }

    /**
     * Llama with grouped-query attention in groups of 2 (8 query heads of 8, 4 key/value heads, so TP=4 divides
     * them) and a separate LM head (model init writes the tied form).
     */
    static ModelConfig tinyLlama() {
        ModelConfig c = ModelSize.TINY.config(Architecture.LLAMA);
        return new ModelConfig(c.architecture(), c.dModel(), 8, 8, c.ffnDim(), 0, c.numDecoderLayers(), c.vocabSize(),
                c.maxPositions(), c.normEps(), false, c.bosTokenId(), c.eosTokenId(), -1, 4, c.options());
    }

    /** Writes the checkpoint into target/fixtures/name and returns its directory. */
    static Path write(String name, ModelConfig c) {
        Path dir = Path.of("target", "fixtures", name);
        try {
            CheckpointWriter.writeRandom(dir, c, SEED);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }
}
