package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.cuda.CudaProbe;
import dev.exegpt.runtime.model.ModelConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Bad requests and a full engine fail clearly, naming the request and the limit, while the rest go on. */
class EngineLimitsTest {

    @Test
    void warmUpRunsRealRequestsWithinTheModelsLimitsAndKeepsNothing() throws IOException {
        for (ModelConfig c : List.of(TestModels.tinyOpt(), TestModels.tinyT5())) {
            Path dir = TestModels.write("warm-up-" + c.architecture(), c);
            try (Engine e = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU).withThreadsPerDevice(1))) {
                int n = e.warmUp(300);
                assertTrue(n >= 4, "at least one batch of 4 ran, got " + n);
                assertEquals(0, e.numSequences(), "warm-up releases every sequence");
                assertEquals(0, e.stateBytesInUse());
            }
        }
    }

    @Test
    void badRequestsAreRejectedWhileTheRestOfTheBatchRuns() throws IOException {
        Path dir = TestModels.write("opt-tiny-limits", TestModels.tinyOpt());
        try (Engine e = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU))) {
            int maxPositions = e.modelConfig().maxPositions();
            List<GenerationRequest> batch = List.of(
                    new GenerationRequest("good-1", new int[] {2, 10, 11}, 4, true),
                    new GenerationRequest("bad-vocab", new int[] {2, 50272}, 4, false),
                    new GenerationRequest("bad-length", new int[maxPositions], 4, false),
                    new GenerationRequest("bad-max", new int[] {2, 5}, 0, false),
                    new GenerationRequest("bad-empty", new int[0], 3, false),
                    new GenerationRequest("good-2", new int[] {2, 7}, 3, true));
            EncodeResult r = e.encode(batch);
            assertEquals(List.of("good-1", "good-2"), r.admitted().stream().map(Sequence::requestId).toList());
            assertEquals(4, r.rejected().size());
            String vocab = r.rejected().get("bad-vocab").getMessage();
            assertTrue(vocab.contains("bad-vocab") && vocab.contains("50272") && vocab.contains("[0, 50272)"), vocab);
            String length = r.rejected().get("bad-length").getMessage();
            assertTrue(length.contains("bad-length") && length.contains(String.valueOf(maxPositions)), length);
            String max = r.rejected().get("bad-max").getMessage();
            assertTrue(max.contains("bad-max") && max.contains("maxNewTokens=0"), max);
            assertInstanceOf(InvalidRequestException.class, r.rejected().get("bad-empty"));
            List<Sequence> active = new java.util.ArrayList<>(r.admitted());
            while (!active.isEmpty()) {
                e.decode(active);
                active.removeIf(Sequence::isFinished);
            }
            assertEquals(4, r.admitted().get(0).numGenerated());
            assertEquals(FinishReason.LENGTH, r.admitted().get(1).finishReason());
        }
    }

    @Test
    void fullEngineRefusesTheNextSequenceUntilOneIsReleased() throws IOException {
        Path dir = TestModels.write("t5-tiny-capacity", TestModels.tinyT5());
        EngineConfig probe = EngineConfig.DEFAULTS.withBackend(Backend.CPU);
        long perSequence;
        try (Engine e = Engine.load(dir, probe)) {
            perSequence = e.stateBytesFor(6, 5);
        }
        try (Engine e = Engine.load(dir, probe.withKvCacheCapacityBytes(2 * perSequence + perSequence / 2))) {
            GenerationRequest r = new GenerationRequest("x", new int[] {1, 2, 3, 4, 5, 6}, 5, true);
            List<Sequence> held = e.encode(List.of(r, withId(r, "y"))).admitted();
            assertEquals(2, held.size());
            assertEquals(2 * perSequence, e.stateBytesInUse());
            EncodeResult third = e.encode(List.of(withId(r, "z")));
            RuntimeException refused = third.rejected().get("z");
            assertInstanceOf(CapacityExceededException.class, refused);
            assertTrue(refused.getMessage().contains("request z") && refused.getMessage().contains("free"),
                    refused.getMessage());
            e.release(held.get(0));
            assertEquals(1, e.encode(List.of(withId(r, "z"))).admitted().size());
        }
    }

    @Test
    void decodingNoSequencesIsANoOpAndSequencesMayLeaveBetweenSteps() throws IOException {
        Path dir = TestModels.write("opt-tiny-leave", TestModels.tinyOpt());
        try (Engine e = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU));
             Engine alone = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU))) {
            assertEquals(0, e.decode(List.of()).length);
            List<Sequence> both = new java.util.ArrayList<>(e.encode(List.of(new GenerationRequest("a", new int[] {2, 3}, 6, true),
                    new GenerationRequest("b", new int[] {4, 5, 6}, 6, true))).admitted());
            Sequence b = alone.encode(List.of(new GenerationRequest("b", new int[] {4, 5, 6}, 6, true))).admitted().get(0);
            e.decode(both);
            alone.decode(List.of(b));
            e.release(both.remove(0));                              // the engine's kept step batch no longer fits
            for (int step = 0; step < 3; step++) {
                int[] got = e.decode(both);
                int[] want = alone.decode(List.of(b));
                assertEquals(want[0], got[0], "step " + step + ": the same tokens as an engine that ran b alone");
            }
            assertEquals(b.numGenerated(), both.get(0).numGenerated());
        }
    }

    @Test
    void decodingAFinishedOrReleasedSequenceIsAnError() throws IOException {
        Path dir = TestModels.write("opt-tiny-finished", TestModels.tinyOpt());
        try (Engine e = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU))) {
            Sequence s = e.encode(List.of(new GenerationRequest("one", new int[] {2, 3}, 1, true))).admitted().get(0);
            assertTrue(s.isFinished(), "maxNewTokens=1 finishes at the prefill");
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> e.decode(List.of(s)));
            assertTrue(ex.getMessage().contains("one"), ex.getMessage());
            try (Engine other = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU))) {
                IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class, () -> other.release(s));
                assertTrue(foreign.getMessage().contains("another engine"), foreign.getMessage());
            }
        }
    }

    @Test
    void cudaBackendIsRefusedClearlyWithoutADevice() {
        assumeFalse(CudaProbe.probe().available(), "a CUDA device answers here: CudaEngineTest covers the CUDA backend");
        UnsupportedOperationException ex = assertThrows(UnsupportedOperationException.class, Backend.CUDA::resolve);
        assertTrue(ex.getMessage().contains("no usable CUDA device"), ex.getMessage());
        assertEquals(Backend.CPU, Backend.AUTO.resolve());
        EngineConfig cuda = EngineConfig.DEFAULTS.withBackend(Backend.CUDA);
        Path dir = TestModels.write("opt-tiny-cuda-refused", TestModels.tinyOpt());
        assertThrows(UnsupportedOperationException.class, () -> Engine.load(dir, cuda));
    }

    private static GenerationRequest withId(GenerationRequest r, String id) {
        return new GenerationRequest(id, r.promptTokens(), r.maxNewTokens(), r.ignoreEos());
    }
}
