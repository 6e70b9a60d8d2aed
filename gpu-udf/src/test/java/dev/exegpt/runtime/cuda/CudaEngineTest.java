package dev.exegpt.runtime.cuda;

import dev.exegpt.runtime.model.t5.T5Options;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.CapacityExceededException;
import dev.exegpt.runtime.engine.EncodeResult;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.engine.GenerationRequest;
import dev.exegpt.runtime.engine.Sequence;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CUDA engine against the CPU engine on the same checkpoints: the same tokens, logits within {@link #TOLERANCE},
 * state moved both ways between them, and the device pool's accounting. Runs where a CUDA device answers (the GPU
 * bundle, gpu-udf/device/run.sh); skips elsewhere, where EngineNumericsTest and EngineLimitsTest cover the same
 * paths on the CPU.
 */
class CudaEngineTest {
    /** Max abs logit difference allowed: f32 on both sides, different summation orders (tiny models, logits ~1). */
    static final float TOLERANCE = 2e-3f;

    static final EngineConfig CPU = EngineConfig.DEFAULTS.withBackend(Backend.CPU).withKeepLogits(true)
            .withKvCacheCapacityBytes(256L << 20);
    static final EngineConfig CUDA = CPU.withBackend(Backend.CUDA);

    @BeforeEach
    void needsADevice() {
        CudaProbe.Result r = CudaProbe.probe();
        assumeTrue(r.available(), "no CUDA device (" + r.reason() + "); the CPU engine's numerics, limits and"
                + " state transfer are covered by EngineNumericsTest, EngineLimitsTest and EngineLayoutTest");
        System.out.println("CUDA: " + r.reason());
    }

    static Path write(String name, ModelConfig c) throws IOException {
        Path dir = Path.of("target", "fixtures", name);
        CheckpointWriter.writeRandom(dir, c, 1234);
        return dir;
    }

    static ModelConfig t5Gated() {
        ModelConfig c = ModelSize.TINY.config(Architecture.T5);
        T5Options o = T5Options.of(c);
        return new ModelConfig(c.architecture(), c.dModel(), c.numHeads(), c.headDim(), c.ffnDim(), c.numEncoderLayers(),
                3, c.vocabSize(), c.maxPositions(), c.normEps(), false, c.bosTokenId(), c.eosTokenId(),
                c.decoderStartTokenId(), c.numKvHeads(), new T5Options(o.numBuckets(), o.maxDistance(), true));
    }

    static List<GenerationRequest> requests(String prefix, int maxNew, int... lengths) {
        SplittableRandom rnd = new SplittableRandom(prefix.hashCode());
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            int[] p = new int[lengths[i]];
            for (int j = 0; j < p.length; j++) p[j] = rnd.nextInt(50257);
            out.add(new GenerationRequest(prefix + i, p, maxNew, true));
        }
        return out;
    }

    /**
     * A scripted run: a ragged batch is encoded and decoded twice, a second batch joins, all decode to the end.
     * Returns the sequences (tokens and last logits) for comparison.
     */
    static List<Sequence> script(Engine e) {
        List<Sequence> all = new ArrayList<>(e.encode(requests("a", 7, 5, 11, 1, 24)).admitted());
        List<Sequence> active = new ArrayList<>(all);
        for (int i = 0; i < 2; i++) {
            if (i > 0 || e.modelConfig().architecture() == Architecture.T5) e.decode(active);
        }
        EncodeResult joined = e.encode(requests("b", 5, 3, 17));
        all.addAll(joined.admitted());
        active.addAll(joined.admitted());
        while (!active.isEmpty()) {
            active.removeIf(Sequence::isFinished);
            if (!active.isEmpty()) e.decode(active);
            for (Sequence s : all) assertTrue(s.lastLogits() == null || s.lastLogits().length == e.modelConfig().vocabSize());
        }
        return all;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static void sameAsCpu(String name, ModelConfig c) throws IOException {
        Path dir = write(name, c);
        try (Engine cpu = Engine.load(dir, CPU); Engine gpu = Engine.load(dir, CUDA)) {
            assertEquals(Backend.CUDA, gpu.backend());
            List<Sequence> expected = script(cpu);
            List<Sequence> actual = script(gpu);
            float worst = 0;
            for (int i = 0; i < expected.size(); i++) {
                Sequence x = expected.get(i);
                Sequence y = actual.get(i);
                assertArrayEquals(x.generatedTokens(), y.generatedTokens(), name + " " + x.requestId() + ": tokens");
                float diff = maxAbsDiff(x.lastLogits(), y.lastLogits());
                worst = Math.max(worst, diff);
                assertTrue(diff < TOLERANCE, name + " " + x.requestId() + ": max abs logit difference " + diff);
            }
            System.out.printf("%s: CUDA vs CPU, %d sequences, same tokens, worst max abs logit difference %.2e%n",
                    name, expected.size(), worst);
        }
    }

    @Test
    void optMatchesTheCpuEngine() throws IOException {
        sameAsCpu("cuda-opt-tiny", ModelSize.TINY.config(Architecture.OPT));
    }

    @Test
    void t5MatchesTheCpuEngine() throws IOException {
        sameAsCpu("cuda-t5-tiny", ModelSize.TINY.config(Architecture.T5));
    }

    @Test
    void llamaWithGroupedQueryAttentionMatchesTheCpuEngine() throws IOException {
        sameAsCpu("cuda-llama-tiny", ModelSize.TINY.config(Architecture.LLAMA));
    }

    @Test
    void gatedGeluUntiedT5MatchesTheCpuEngine() throws IOException {
        sameAsCpu("cuda-t5-gated", t5Gated());
    }

    /** WAA across backends: encode (and a step) on one engine, export, import on the other, decode to the end. */
    @Test
    void stateMovesBetweenCpuAndCuda() throws IOException {
        for (Architecture a : Architecture.values()) {
            ModelConfig c = ModelSize.TINY.config(a);
            Path dir = write("cuda-move-" + c.architecture(), c);
            try (Engine cpu = Engine.load(dir, CPU); Engine gpu = Engine.load(dir, CUDA)) {
                List<GenerationRequest> reqs = requests("m", 6, 9, 4);
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

    /** The device pool charges what the CPU engine charges, refuses beyond its capacity, and frees on release. */
    @Test
    void devicePoolAccountsStateBytes() throws IOException {
        ModelConfig c = ModelSize.TINY.config(Architecture.T5);
        Path dir = write("cuda-pool", c);
        try (Engine probe = Engine.load(dir, CPU)) {
            long one = probe.stateBytesFor(16, 8);
            try (Engine gpu = Engine.load(dir, CUDA.withKvCacheCapacityBytes(2 * KvPool.rounded(one)))) {
                assertEquals(probe.stateBytesFor(16, 8), gpu.stateBytesFor(16, 8));
                EncodeResult r = gpu.encode(requests("p", 8, 16, 16, 16));
                assertEquals(2, r.admitted().size());
                assertInstanceOf(CapacityExceededException.class, r.rejected().get("p2"));
                assertEquals(2 * one, gpu.stateBytesInUse());
                for (Sequence s : r.admitted()) gpu.release(s);
                assertEquals(0, gpu.stateBytesInUse());
                assertEquals(3, gpu.encode(requests("q", 8, 16, 1, 1)).admitted().size());
            }
        }
    }

    @Test
    void stepsAreTimedWithCudaEvents() throws IOException {
        Path dir = write("cuda-timed", ModelSize.TINY.config(Architecture.OPT));
        try (Engine gpu = Engine.load(dir, CUDA)) {
            List<Sequence> s = gpu.encode(requests("t", 4, 8, 8)).admitted();
            assertTrue(gpu.lastStepGpuMs() > 0, "encode GPU ms " + gpu.lastStepGpuMs());
            gpu.decode(s);
            assertTrue(gpu.lastStepGpuMs() > 0, "decode GPU ms " + gpu.lastStepGpuMs());
        }
    }
}
