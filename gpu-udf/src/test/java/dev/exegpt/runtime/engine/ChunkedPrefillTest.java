package dev.exegpt.runtime.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.engine.ChunkedPrefillEngine.PromptChunk;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ReferenceModel;
import dev.exegpt.runtime.weights.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * vLLM V1's step on the real engine: prompts prefilled in chunks on top of their own KV cache, in the same steps as
 * other sequences' decode tokens. Every token's logits are checked against {@link ReferenceModel} (plain loops, the
 * whole sequence recomputed), and the tokens against the same requests prefilled whole, for a learned-position family
 * (OPT) and a RoPE, grouped-query one (Llama), on one device and on a two-stage pipeline with micro-batches.
 */
class ChunkedPrefillTest {
    private static final float TOLERANCE = 1e-4f;

    static Stream<Arguments> engines() {
        DeviceLayout pipeline = DeviceLayout.rra(1, 1);
        return Stream.of(
                Arguments.of(Architecture.OPT, DeviceLayout.SINGLE),
                Arguments.of(Architecture.LLAMA, DeviceLayout.SINGLE),
                Arguments.of(Architecture.OPT, pipeline),
                Arguments.of(Architecture.LLAMA, pipeline));
    }

    private static ModelConfig config(Architecture a) {
        return a == Architecture.OPT ? TestModels.tinyOpt() : TestModels.tinyLlama();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("engines")
    void promptsPrefilledInChunksBesideDecodesGiveTheReferenceLogitsAndTheWholePrefillTokens(Architecture a,
                                                                                         DeviceLayout layout) throws IOException {
        ModelConfig c = config(a);
        Path dir = TestModels.write(a.name().toLowerCase() + "-tiny-chunked", c);
        ReferenceModel ref = new ReferenceModel(c, Safetensors.read(dir.resolve("model.safetensors")));
        List<GenerationRequest> requests = EngineNumericsTest.requests(20, 5, 11);   // A, B, C; 6 new tokens each
        EngineConfig ec = EngineConfig.DEFAULTS.withBackend(Backend.CPU).withLayout(layout).withKeepLogits(true);
        List<int[]> whole = new ArrayList<>();
        try (Engine e = Engine.load(dir, ec)) {
            for (Sequence s : e.generate(requests).admitted()) whole.add(s.generatedTokens());
        }
        try (Engine e = Engine.load(dir, ec)) {
            Sequence sa = e.start(requests.get(0));
            Sequence sb = e.start(requests.get(1));
            // A's first chunk (9 rows: the block attention path) beside B's whole prompt, which yields B's first token.
            step(e, ref, c, List.of(), List.of(new PromptChunk(sa, 0, 9), new PromptChunk(sb, 0, 5)));
            assertEquals(0, sa.numGenerated(), "a chunk short of the prompt's end generates nothing");
            assertEquals(1, sb.numGenerated());
            Sequence sc = e.start(requests.get(2));
            // B decodes; A continues by 3 rows (the per-row path) on top of its cache; C starts.
            step(e, ref, c, List.of(sb), List.of(new PromptChunk(sa, 9, 3), new PromptChunk(sc, 0, 4)));
            // B decodes; A and C complete their prompts.
            step(e, ref, c, List.of(sb), List.of(new PromptChunk(sc, 4, 7), new PromptChunk(sa, 12, 8)));
            List<Sequence> all = List.of(sa, sb, sc);
            List<Sequence> running = new ArrayList<>(all);
            while (!running.isEmpty()) {
                step(e, ref, c, running, List.of());
                running.removeIf(Sequence::isFinished);
            }
            for (int i = 0; i < all.size(); i++) {
                assertArrayEquals(whole.get(i), all.get(i).generatedTokens(), "request " + i + " as prefilled whole");
                e.release(all.get(i));
            }
            assertEquals(0, e.numSequences());
            assertEquals(0, e.stateBytesInUse());
        }
    }

    /** One step, then every sequence that got a token has the reference's logits for it. */
    private static void step(Engine e, ReferenceModel ref, ModelConfig c, List<Sequence> decoding, List<PromptChunk> chunks) {
        int[] before = new int[decoding.size() + chunks.size()];
        List<Sequence> seqs = new ArrayList<>(decoding);
        for (PromptChunk ch : chunks) seqs.add(ch.sequence());
        for (int i = 0; i < before.length; i++) before[i] = seqs.get(i).numGenerated();
        e.step(decoding, chunks);
        for (int i = 0; i < before.length; i++) {
            Sequence s = seqs.get(i);
            if (s.numGenerated() == before[i]) continue;
            assertEquals(before[i] + 1, s.numGenerated(), s.requestId());
            int[] gen = s.generatedTokens();
            int[] fed = EngineNumericsTest.concat(s.promptTokens(), Arrays.copyOf(gen, gen.length - 1));
            float[] logits = c.architecture() == Architecture.OPT ? ref.optLogits(fed) : ref.llamaLogits(fed);
            int off = (fed.length - 1) * c.vocabSize();
            float worst = 0;
            for (int j = 0; j < c.vocabSize(); j++) worst = Math.max(worst, Math.abs(logits[off + j] - s.lastLogits()[j]));
            assertTrue(worst < TOLERANCE, s.requestId() + " token " + gen.length + ": max abs logit error " + worst);
        }
    }

    @Test
    void aChunkThatDoesNotContinueItsPromptIsRefused() throws IOException {
        Path dir = TestModels.write("opt-tiny-chunked", TestModels.tinyOpt());
        try (Engine e = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU))) {
            Sequence s = e.start(EngineNumericsTest.requests(10).get(0));
            IllegalArgumentException skip = assertThrows(IllegalArgumentException.class,
                    () -> e.step(List.of(), List.of(new PromptChunk(s, 4, 3))));
            assertTrue(skip.getMessage().contains("does not continue a prompt of 10 tokens with 0 computed"), skip.getMessage());
            assertThrows(IllegalArgumentException.class, () -> e.step(List.of(), List.of(new PromptChunk(s, 0, 11))));
            assertThrows(IllegalArgumentException.class, () -> e.step(List.of(s), List.of()), "not prefilled: no decode");
            e.release(s);
        }
    }

    @Test
    void anEncoderDecoderModelSaysWhyItCannotChunkItsPrompts() throws IOException {
        Path dir = TestModels.write("t5-tiny", TestModels.tinyT5());
        try (Engine e = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU))) {
            String why = e.chunkedPrefillRefusal();
            assertNotNull(why);
            assertEquals(1, why.lines().count(), why);
            assertTrue(why.contains("encoder-decoder") && why.contains("VLLM_V0"), why);
            UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class,
                    () -> e.start(EngineNumericsTest.requests(4).get(0)));
            assertEquals(why, u.getMessage());
        }
        try (Engine e = Engine.load(TestModels.write("opt-tiny-chunked", TestModels.tinyOpt()),
                EngineConfig.DEFAULTS.withBackend(Backend.CPU))) {
            assertEquals(null, e.chunkedPrefillRefusal());
        }
    }
}
