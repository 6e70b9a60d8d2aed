package dev.exegpt.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.CapacityExceededException;
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
