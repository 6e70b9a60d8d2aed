package dev.exegpt.scheduler.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The Llama-family specs count what their published checkpoints hold. */
class ModelSpecsTest {

    @Test
    void shouldCountTheParametersOfThePublishedLlamaFamilyModels() {
        // Published totals (embeddings and untied heads included): Llama-2-7B 6.74 B, Llama-3-8B 8.03 B,
        // Qwen2-7B 7.62 B (its q/k/v biases and norms are below 0.01 %), SmolLM2-135M 134.5 M (tied head).
        assertParams("llama2-7b", 6.74e9, true);
        assertParams("llama3-8b", 8.03e9, true);
        assertParams("qwen2-7b", 7.62e9, true);
        assertParams("smollm2-135m", 134.5e6, false);
    }

    /** totalParams counts the embedding once (paramsOther); an untied head adds another vocab x hidden. */
    private static void assertParams(String name, double published, boolean untiedHead) {
        ModelSpec m = ModelSpecs.byName(name);
        double params = m.totalParams() + (untiedHead ? (double) m.vocabSize() * m.hiddenSize() : 0);
        assertEquals(published, params, published * 0.005, name + ": " + params);
    }

    @Test
    void groupedQueryAttentionShouldShrinkTheKvCacheByTheGroupSize() {
        ModelSpec llama3 = ModelSpecs.byName("llama3-8b");
        ModelSpec llama2 = ModelSpecs.byName("llama2-7b");
        assertEquals(4, llama2.kvBytesPerTokenPerLayer() / llama3.kvBytesPerTokenPerLayer());
        assertEquals(2L * 8 * 128 * ModelSpec.BYTES_PER_PARAM, llama3.kvBytesPerTokenPerLayer());
        assertTrue(llama3.paramsPerDecoderLayer() < 4L * 4096 * 4096 + 3L * 4096 * 14336);
    }
}
