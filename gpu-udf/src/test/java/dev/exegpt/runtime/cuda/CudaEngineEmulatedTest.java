package dev.exegpt.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.CapacityExceededException;
import dev.exegpt.runtime.engine.ChunkedPrefillEngine.PromptChunk;
import dev.exegpt.runtime.engine.CudaRunner;
import dev.exegpt.runtime.engine.EncodeResult;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.GenerationRequest;
import dev.exegpt.runtime.engine.Sequence;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Weights;
import dev.exegpt.runtime.weights.ModelSize;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The engine on the CUDA backend (admission into the device pool, the family code over {@link CudaOps}, export and
 * import) run over {@link HostGpu}, whose memory is host arrays and whose kernels are the reference kernels, against
 * the CPU backend, for every family: the same tokens and logits within 1e-4. Runs everywhere; it checks the
 * orchestration (offsets, metadata, launch arguments), not the CUDA code, which only CudaEngineTest on a GPU checks.
 */
class CudaEngineEmulatedTest {

    static Engine emulated(Path dir, long poolBytes) throws IOException {
        ModelConfig c = ModelConfig.read(dir);
        CudaRunner runner = new CudaRunner(c, Weights.read(dir), poolBytes, new CudaOps(c, new HostGpu()));
        return new Engine(c, CudaEngineTest.CPU.withBackend(Backend.CUDA).withKvCacheCapacityBytes(poolBytes), runner);
    }

    static void sameAsCpu(String name, ModelConfig c) throws IOException {
        Path dir = CudaEngineTest.write(name, c);
        try (Engine cpu = Engine.load(dir, CudaEngineTest.CPU); Engine gpu = emulated(dir, 64L << 20)) {
            assertEquals(Backend.CUDA, gpu.backend());
            List<Sequence> expected = CudaEngineTest.script(cpu);
            List<Sequence> actual = CudaEngineTest.script(gpu);
            float worst = 0;
            for (int i = 0; i < expected.size(); i++) {
                Sequence x = expected.get(i);
                Sequence y = actual.get(i);
                assertArrayEquals(x.generatedTokens(), y.generatedTokens(), name + " " + x.requestId() + ": tokens");
                float diff = CudaEngineTest.maxAbsDiff(x.lastLogits(), y.lastLogits());
                worst = Math.max(worst, diff);
                assertTrue(diff < 1e-4f, name + " " + x.requestId() + ": max abs logit difference " + diff);
            }
            System.out.printf("%s: emulated CUDA path vs CPU engine, %d sequences, same tokens, worst max abs logit"
                    + " difference %.2e%n", name, expected.size(), worst);
        }
    }

    @Test
    void optPathMatchesTheCpuEngine() throws IOException {
        sameAsCpu("emu-opt-tiny", ModelSize.TINY.config(Architecture.OPT));
    }

    @Test
    void t5PathMatchesTheCpuEngine() throws IOException {
        sameAsCpu("emu-t5-tiny", ModelSize.TINY.config(Architecture.T5));
    }

    @Test
    void llamaPathWithGroupedQueryAttentionMatchesTheCpuEngine() throws IOException {
        ModelConfig c = ModelSize.TINY.config(Architecture.LLAMA);
        assertTrue(c.numKvHeads() < c.numHeads(), "the tiny Llama has fewer key/value heads than query heads");
        sameAsCpu("emu-llama-tiny", c);
    }

    /**
     * vLLM V1's mixed step (prompt chunks at their positions beside decode rows) through the CUDA path's metadata, for a
     * learned-position and a RoPE family: the CPU engine's tokens and logits.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = Architecture.class, names = {"OPT", "LLAMA"})
    void chunkedPrefillStepsMatchTheCpuEngine(Architecture a) throws IOException {
        Path dir = CudaEngineTest.write("emu-" + a.name().toLowerCase() + "-chunked", ModelSize.TINY.config(a));
        try (Engine cpu = Engine.load(dir, CudaEngineTest.CPU); Engine gpu = emulated(dir, 64L << 20)) {
            List<Sequence> expected = chunkedScript(cpu);
            List<Sequence> actual = chunkedScript(gpu);
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i).generatedTokens(), actual.get(i).generatedTokens(), a + " " + i + ": tokens");
                float diff = CudaEngineTest.maxAbsDiff(expected.get(i).lastLogits(), actual.get(i).lastLogits());
                assertTrue(diff < 1e-4f, a + " " + i + ": max abs logit difference " + diff);
            }
        }
    }

    /** Two prompts prefilled in chunks (one of 9 rows, over the block threshold) while a third decodes, then all decode. */
    private static List<Sequence> chunkedScript(Engine e) {
        List<GenerationRequest> r = CudaEngineTest.requests("c", 8, 17, 4, 10);
        Sequence x = e.start(r.get(0));
        Sequence y = e.start(r.get(1));
        e.step(List.of(), List.of(new PromptChunk(x, 0, 9), new PromptChunk(y, 0, 4)));
        Sequence z = e.start(r.get(2));
        e.step(List.of(y), List.of(new PromptChunk(x, 9, 8), new PromptChunk(z, 0, 3)));
        e.step(List.of(y, x), List.of(new PromptChunk(z, 3, 7)));
        for (int i = 0; i < 3; i++) e.step(List.of(x, y, z), List.of());
        return List.of(x, y, z);
    }

    @Test
    void gatedGeluUntiedT5PathMatchesTheCpuEngine() throws IOException {
        sameAsCpu("emu-t5-gated", CudaEngineTest.t5Gated());
    }

    @Test
    void stateMovesBetweenCpuAndTheCudaPath() throws IOException {
        for (Architecture a : Architecture.values()) {
            ModelConfig c = ModelSize.TINY.config(a);
            Path dir = CudaEngineTest.write("emu-move-" + c.architecture(), c);
            try (Engine cpu = Engine.load(dir, CudaEngineTest.CPU); Engine gpu = emulated(dir, 64L << 20)) {
                List<GenerationRequest> reqs = CudaEngineTest.requests("m", 6, 9, 4);
                List<Sequence> ref = new ArrayList<>(cpu.generate(reqs).admitted());
                for (Engine[] pair : new Engine[][] {{cpu, gpu}, {gpu, cpu}}) {
                    List<Sequence> src = pair[0].encode(reqs).admitted();
                    pair[0].decode(src);
                    List<Sequence> moved = new ArrayList<>();
                    for (Sequence s : src) {
                        moved.add(pair[1].importState(pair[0].exportState(s)));
                        pair[0].release(s);
                    }
                    List<Sequence> active = new ArrayList<>(moved);
                    while (!active.isEmpty()) {
                        pair[1].decode(active);
                        active.removeIf(Sequence::isFinished);
                    }
                    for (int i = 0; i < ref.size(); i++) {
                        assertArrayEquals(ref.get(i).generatedTokens(), moved.get(i).generatedTokens(),
                                c.architecture() + " " + pair[0].backend() + " -> " + pair[1].backend());
                        pair[1].release(moved.get(i));
                    }
                }
                assertEquals(0, gpu.stateBytesInUse());
            }
        }
    }

    @Test
    void devicePoolAccountsStateBytes() throws IOException {
        ModelConfig c = ModelSize.TINY.config(Architecture.T5);
        Path dir = CudaEngineTest.write("emu-pool", c);
        try (Engine cpu = Engine.load(dir, CudaEngineTest.CPU)) {
            long one = cpu.stateBytesFor(16, 8);
            try (Engine gpu = emulated(dir, 2 * KvPool.rounded(one))) {
                assertEquals(2 * KvPool.rounded(one), gpu.capacityBytes());
                EncodeResult r = gpu.encode(CudaEngineTest.requests("p", 8, 16, 16, 16));
                assertEquals(2, r.admitted().size());
                assertInstanceOf(CapacityExceededException.class, r.rejected().get("p2"));
                assertEquals(2 * one, gpu.stateBytesInUse());
                for (Sequence s : r.admitted()) gpu.release(s);
                assertEquals(0, gpu.stateBytesInUse());
                assertEquals(3, gpu.encode(CudaEngineTest.requests("q", 8, 16, 1, 1)).admitted().size());
            }
        }
    }
}
