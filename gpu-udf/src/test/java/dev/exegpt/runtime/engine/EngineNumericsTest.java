package dev.exegpt.runtime.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ReferenceModel;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.runtime.weights.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Logits of the engine (Vector API kernels, KV cache, ragged batches) against {@link ReferenceModel}, which
 * recomputes the whole sequence with plain loops at every step: equal within 1e-4 for both architectures.
 */
class EngineNumericsTest {
    private static final float TOLERANCE = 1e-4f;
    private static final EngineConfig CONFIG = EngineConfig.DEFAULTS.withBackend(Backend.CPU).withKeepLogits(true);

    static List<GenerationRequest> requests(int... lengths) {
        List<GenerationRequest> r = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            int[] p = new int[lengths[i]];
            for (int j = 0; j < p.length; j++) p[j] = (int) ((j * 7919L + i * 104729L + 13) % 50257);
            r.add(new GenerationRequest("r" + i, p, 6, true));
        }
        return r;
    }

    private static float maxAbsDiff(float[] expected, int offset, float[] actual) {
        float max = 0;
        for (int i = 0; i < actual.length; i++) max = Math.max(max, Math.abs(expected[offset + i] - actual[i]));
        return max;
    }

    private static void checkAgainstReference(ModelConfig c, Path dir) throws IOException {
        ReferenceModel ref = new ReferenceModel(c, Safetensors.read(dir.resolve("model.safetensors")));
        int v = c.vocabSize();
        try (Engine engine = Engine.load(dir, CONFIG)) {
            EncodeResult r = engine.encode(requests(5, 11, 1));
            List<Sequence> active = new ArrayList<>(r.admitted());
            float worst = 0;
            for (int step = 0; step < 6; step++) {
                if (step > 0 || c.architecture() == Architecture.T5) engine.decode(active);
                for (Sequence s : active) {
                    int[] gen = s.generatedTokens();
                    int[] prefix = Arrays.copyOf(gen, gen.length - 1);       // tokens fed before the last choice
                    float[] logits;
                    int last;
                    if (!c.encoderDecoder()) {
                        int[] all = concat(s.promptTokens(), prefix);
                        logits = c.architecture() == Architecture.OPT ? ref.optLogits(all) : ref.llamaLogits(all);
                        last = all.length - 1;
                    } else {
                        int[] dec = concat(new int[] {c.decoderStartTokenId()}, prefix);
                        logits = ref.t5Logits(s.promptTokens(), dec);
                        last = dec.length - 1;
                    }
                    float diff = maxAbsDiff(logits, last * v, s.lastLogits());
                    worst = Math.max(worst, diff);
                    assertTrue(diff < TOLERANCE, c.architecture() + " " + s.requestId() + " step " + step
                            + ": max abs logit error " + diff);
                }
            }
            for (Sequence s : active) engine.release(s);
            System.out.printf("%s vs reference: worst max abs logit error %.2e%n", c.architecture(), worst);
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void optCachedDecodeMatchesFullRecomputeOfReference() throws IOException {
        checkAgainstReference(TestModels.tinyOpt(), TestModels.write("opt-tiny", TestModels.tinyOpt()));
    }

    @Test
    void t5CachedDecodeMatchesFullRecomputeOfReference() throws IOException {
        checkAgainstReference(TestModels.tinyT5(), TestModels.write("t5-tiny", TestModels.tinyT5()));
    }

    @Test
    void llamaCachedDecodeMatchesFullRecomputeOfReference() throws IOException {
        checkAgainstReference(TestModels.tinyLlama(), TestModels.write("llama-tiny", TestModels.tinyLlama()));
    }

    @Test
    void llamaAsModelInitWritesItMatchesReference() throws IOException {
        ModelConfig c = ModelSize.TINY.config(Architecture.LLAMA);           // tied head, 4 heads over 2 KV heads
        checkAgainstReference(c, TestModels.write("llama-tiny-tied", c));
    }

    @Test
    void gatedGeluUntiedT5MatchesReference() throws IOException {
        checkAgainstReference(TestModels.tinyT5Gated(), TestModels.write("t5-tiny-gated", TestModels.tinyT5Gated()));
    }

    @Test
    void referenceKernelsGiveTheSameTokens() throws IOException {
        Path dir = TestModels.write("opt-tiny-refk", TestModels.tinyOpt());
        try (Engine fast = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU));
             Engine slow = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU).withReferenceKernels(true))) {
            List<Sequence> a = fast.generate(requests(4, 9)).admitted();
            List<Sequence> b = slow.generate(requests(4, 9)).admitted();
            for (int i = 0; i < a.size(); i++) assertArrayEquals(b.get(i).generatedTokens(), a.get(i).generatedTokens());
        }
    }
}
