package dev.exegpt.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.CudaRunner;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.GenerationRequest;
import dev.exegpt.runtime.engine.Sequence;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;
import dev.exegpt.runtime.weights.ModelSize;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the CUDA backend promises the host, checked over {@link HostGpu}: weights resident at load, and a decode
 * step that costs one upload (its metadata), one download (the next tokens) and no other wait; the step arena and the
 * metadata sections that the kernels read.
 */
class CudaOpsTest {

    @Test
    void aStepCostsOneUploadAndADecodeStepOneDownloadForEveryFamily() throws IOException {
        for (Architecture a : Architecture.values()) {
            ModelConfig c = ModelSize.TINY.config(a);
            Path dir = CudaEngineTest.write("ops-" + a, c);
            HostGpu gpu = new HostGpu();
            CudaRunner runner = new CudaRunner(c, Weights.read(dir), 32L << 20, new CudaOps(c, gpu));
            try (Engine engine = new Engine(c, CudaEngineTest.CPU.withBackend(Backend.CUDA).withKeepLogits(false),
                    runner)) {
                int loadedIn = gpu.numCopiesIn;
                List<Sequence> seqs = engine.encode(CudaEngineTest.requests("s", 8, 5, 3, 7)).admitted();
                assertEquals(1, gpu.numCopiesIn - loadedIn, a + ": uploads in the first step (every parameter is"
                        + " resident from the load; only the step's metadata goes up)");
                engine.decode(seqs);                                  // T5's first step fills the cross caches
                int in = gpu.numCopiesIn;
                int out = gpu.numCopiesOut;
                int syncs = gpu.numSyncs;
                long afterWarmUp = gpu.allocatedBytes();
                engine.decode(seqs);
                assertEquals(1, gpu.numCopiesIn - in, a + ": uploads in a decode step (its metadata)");
                assertEquals(1, gpu.numCopiesOut - out, a + ": downloads in a decode step (the next tokens)");
                assertEquals(0, gpu.numSyncs - syncs, a + ": waits in a decode step besides the download");
                assertEquals(afterWarmUp, gpu.allocatedBytes(), a + ": a steady step allocates nothing");
                for (Sequence s : seqs) engine.release(s);
            }
        }
    }

    @Test
    void theArenaGrowsWithinAStepAndSettlesOnOneChunk() {
        HostGpu gpu = new HostGpu();
        StepArena arena = new StepArena(gpu);
        long a = arena.take(10);
        long b = arena.take(10);
        assertEquals(256, b - a, "aligned to 256 bytes");
        long first = arena.chunkFloats();
        long big = arena.take(3 * first);                             // more than the chunk holds: a new chunk
        assertEquals(1, arena.retired().size(), "the old chunk waits for the end of the step");
        assertNotEquals(a, big);
        long held = gpu.allocatedBytes();
        arena.reset();
        assertEquals(0, arena.retired().size());
        assertTrue(gpu.allocatedBytes() < held, "the retired chunk is freed at the end of the step");
        long again = arena.take(3 * first);
        assertEquals(big, again, "the next step fits in the grown chunk from its start");
        assertEquals(0, arena.retired().size());
    }

    @Test
    void metadataPointsEachRowAtItsSequencesCacheAndPosition() {
        ModelConfig c = ModelSize.TINY.config(Architecture.LLAMA);
        SequenceState s0 = new SequenceState(0, 0, 10, 0, 0);
        s0.poolOffsetBytes = 0;
        SequenceState s1 = new SequenceState(0, 0, 20, 0, 0);
        s1.poolOffsetBytes = 4096;
        StepBatch b = new StepBatch(List.of(s0, s1), new int[] {3, 1}, new int[] {0, 7});
        StepMeta m = StepMeta.of(b, c, new int[] {5, 6, 7, 8}, 2);
        StateLayout l1 = StateLayout.of(c, 20, 0);
        assertEquals(4, m.rows());
        assertEquals(8, m.get(StepMeta.IDS, 3));
        assertEquals(9, m.get(StepMeta.POS_IDS, 3), "learned positions at position + offset");
        assertEquals(7, m.get(StepMeta.QPOS, 3));
        assertEquals(8, m.get(StepMeta.SELF_KEYS, 3), "a decode row sees its position and those before");
        assertEquals(3, m.get(StepMeta.SELF_KEYS, 2));
        assertEquals(4096 / 4 + l1.selfKeys(0), m.get(StepMeta.SELF_K, 3));
        assertEquals(4096 / 4 + l1.selfValues(0), m.get(StepMeta.SELF_V, 3));
        assertEquals(l1.selfLayerStride(), m.get(StepMeta.SELF_STRIDE, 3));
        assertEquals(3L * c.kvDim(), m.get(StepMeta.LOCAL_BASE, 3), "the step's own keys start at its first row");
        assertEquals(2, m.get(StepMeta.LAST_ROW, 0));
        assertEquals(3, m.get(StepMeta.LAST_ROW, 1));
        assertEquals(8, m.maxSelfKeys());
        assertEquals(3, m.maxLocalKeys());
    }

    @Test
    void metadataOfAStepWithoutStatesServesTheHead() {
        ModelConfig c = ModelSize.TINY.config(Architecture.OPT);
        StepBatch b = new StepBatch(java.util.Collections.nCopies(2, (SequenceState) null), new int[] {1, 1},
                new int[] {0, 0});
        StepMeta m = StepMeta.of(b, c, new int[] {3, 4}, 2);
        assertEquals(4, m.get(StepMeta.IDS, 1));
        assertEquals(1, m.get(StepMeta.LAST_ROW, 1));
    }
}
