package dev.exegpt.runtime.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Any device layout gives the tokens of one device: tensor parallelism (TP=2 == TP=1), pipelines with several
 * micro-batches in flight, partial TP (some stages TP groups, others single devices), RRA and WAA; and a batch of
 * mixed lengths gives what the same sequences give one by one.
 */
class EngineLayoutTest {
    private static final EngineConfig CONFIG = EngineConfig.DEFAULTS.withBackend(Backend.CPU).withKeepLogits(true).withThreadsPerDevice(1);

    private static List<Sequence> run(Path dir, EngineConfig config, List<GenerationRequest> requests) throws IOException {
        try (Engine e = Engine.load(dir, config)) {
            EncodeResult r = e.generate(requests);
            assertTrue(r.rejected().isEmpty(), "rejected: " + r.rejected());
            assertEquals(0, e.stateBytesInUse(), "all state released");
            return r.admitted();
        }
    }

    private static void assertSameOutputs(List<Sequence> expected, List<Sequence> actual, String what) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i).generatedTokens(), actual.get(i).generatedTokens(), what + " tokens of " + i);
            float[] a = expected.get(i).lastLogits();
            float[] b = actual.get(i).lastLogits();
            float max = 0;
            for (int j = 0; j < a.length; j++) max = Math.max(max, Math.abs(a[j] - b[j]));
            assertTrue(max < 1e-4f, what + ": last logits differ by " + max);
        }
    }

    private static void checkLayouts(String name, ModelConfig c) throws IOException {
        Path dir = TestModels.write(name, c);
        List<GenerationRequest> requests = EngineNumericsTest.requests(3, 8, 5, 12);
        List<Sequence> single = run(dir, CONFIG, requests);
        assertSameOutputs(single, run(dir, CONFIG.withLayout(DeviceLayout.rra(2)), requests), "TP=2");
        assertSameOutputs(single, run(dir, CONFIG.withLayout(DeviceLayout.rra(4)), requests), "TP=4");
        assertSameOutputs(single, run(dir, CONFIG.withLayout(DeviceLayout.rra(1, 1)), requests), "RRA 2 stages");
        assertSameOutputs(single, run(dir, CONFIG.withLayout(DeviceLayout.rra(2, 1)).withNumMicroBatches(3), requests),
                "RRA partial TP, 3 micro-batches");
        assertSameOutputs(single, run(dir, CONFIG.withLayout(DeviceLayout.waa(new int[] {1}, new int[] {2})), requests),
                "WAA encoder 1 + decoder TP=2");
        assertSameOutputs(single, run(dir, CONFIG.withLayout(DeviceLayout.waa(new int[] {2}, new int[] {1, 1}))
                .withNumMicroBatches(2), requests), "WAA encoder TP=2 + 2 decoder stages");
        for (GenerationRequest r : requests) {
            List<Sequence> alone = run(dir, CONFIG, List.of(r));
            int i = requests.indexOf(r);
            assertSameOutputs(List.of(single.get(i)), alone, "one by one " + r.requestId());
        }
    }

    @Test
    void optLayoutsAndBatchingGiveTheSameTokens() throws IOException {
        checkLayouts("opt-tiny-layouts", TestModels.tinyOpt());
    }

    @Test
    void t5LayoutsAndBatchingGiveTheSameTokens() throws IOException {
        checkLayouts("t5-tiny-layouts", TestModels.tinyT5Gated());
    }

    @Test
    void llamaLayoutsAndBatchingGiveTheSameTokens() throws IOException {
        checkLayouts("llama-tiny-layouts", TestModels.tinyLlama());
    }

    /**
     * A 16-bit checkpoint stays 16-bit inside the engine, through tensor-parallel slices too (about half the layer bytes
     * of its f32 twin), and decodes as the same weights widened to f32 do: the kernels read the 16-bit panels exactly.
     */
    @Test
    void sixteenBitCheckpointsStaySixteenBitThroughSlicesAndDecodeAsTheirWidenedWeights() throws IOException {
        ModelConfig c = TestModels.tinyLlama();                     // grouped-query heads: TP slices rows and columns
        List<GenerationRequest> requests = EngineNumericsTest.requests(3, 8, 5);
        for (dev.exegpt.runtime.weights.DType dtype : new dev.exegpt.runtime.weights.DType[] {
                dev.exegpt.runtime.weights.DType.BF16, dev.exegpt.runtime.weights.DType.F16}) {
            List<dev.exegpt.runtime.weights.Tensor> tensors = dev.exegpt.runtime.weights.RandomWeights.generate(c, 5);
            List<dev.exegpt.runtime.weights.Tensor> widened = new ArrayList<>();
            for (dev.exegpt.runtime.weights.Tensor t : tensors) {
                widened.add(new dev.exegpt.runtime.weights.Tensor(t.name(), t.shape(), t.narrowedTo(dtype).data()));
            }
            Path sixteen = Path.of("target", "fixtures", "sixteen-" + dtype);
            Path wide = Path.of("target", "fixtures", "sixteen-" + dtype + "-widened");
            dev.exegpt.runtime.weights.CheckpointWriter.write(sixteen, c, tensors, dtype);
            dev.exegpt.runtime.weights.CheckpointWriter.write(wide, c, widened, dev.exegpt.runtime.weights.DType.F32);
            for (DeviceLayout layout : List.of(DeviceLayout.rra(1), DeviceLayout.rra(2))) {
                EngineConfig config = CONFIG.withLayout(layout);
                assertSameOutputs(run(wide, config, requests), run(sixteen, config, requests), dtype + " " + layout);
                try (Engine a = Engine.load(sixteen, config); Engine b = Engine.load(wide, config)) {
                    List<Long> bytes16 = a.weightBytes();
                    List<Long> bytes32 = b.weightBytes();
                    long layers16 = 0;
                    long layers32 = 0;
                    for (int d = 0; d < bytes16.size() - 1; d++) {       // the last entry is the head's
                        layers16 += bytes16.get(d);
                        layers32 += bytes32.get(d);
                    }
                    assertTrue(layers16 < 0.6 * layers32, dtype + " " + layout + ": layer weights " + layers16
                            + " bytes against f32's " + layers32);
                }
            }
        }
    }

    @Test
    void sequencesJoinAndLeaveBetweenIterations() throws IOException {
        Path dir = TestModels.write("opt-tiny-join", TestModels.tinyOpt());
        List<GenerationRequest> requests = EngineNumericsTest.requests(4, 7, 6);
        List<Sequence> alone = run(dir, CONFIG, requests);
        try (Engine e = Engine.load(dir, CONFIG.withLayout(DeviceLayout.rra(1, 1)))) {
            List<Sequence> all = new ArrayList<>(e.encode(requests.subList(0, 1)).admitted());
            List<Sequence> active = new ArrayList<>(all);
            e.decode(active);
            e.decode(active);
            List<Sequence> joined = e.encode(requests.subList(1, 3)).admitted();   // two join mid-way
            all.addAll(joined);
            active.addAll(joined);
            while (!active.isEmpty()) {
                e.decode(active);
                for (Sequence s : active) if (s.isFinished()) e.release(s);
                active.removeIf(Sequence::isFinished);
            }
            assertEquals(0, e.numSequences());
            assertEquals(0, e.stateBytesInUse());
            for (int i = 0; i < all.size(); i++) {
                assertArrayEquals(alone.get(i).generatedTokens(), all.get(i).generatedTokens(), "sequence " + i);
            }
        }
    }

    @Test
    void exportedStateContinuesOnAnotherEngine() throws IOException {
        for (ModelConfig c : List.of(TestModels.tinyOpt(), TestModels.tinyT5(), TestModels.tinyLlama())) {
            Path dir = TestModels.write("state-" + c.architecture(), c);
            List<GenerationRequest> requests = EngineNumericsTest.requests(5, 9);
            List<Sequence> expected = run(dir, CONFIG, requests);
            try (Engine encoder = Engine.load(dir, CONFIG); Engine decoder = Engine.load(dir, CONFIG.withLayout(DeviceLayout.rra(2)))) {
                List<Sequence> moved = new ArrayList<>();
                for (Sequence s : encoder.encode(requests).admitted()) {
                    byte[] bytes = encoder.exportState(s);                     // right after encode (WAA hand-off)
                    encoder.release(s);
                    moved.add(decoder.importState(bytes));
                }
                assertEquals(0, encoder.stateBytesInUse());
                decoder.decode(moved);
                decoder.decode(moved);
                List<Sequence> again = new ArrayList<>();
                for (Sequence s : moved) {                                     // and mid-decode, back again
                    byte[] bytes = decoder.exportState(s);
                    decoder.release(s);
                    again.add(encoder.importState(bytes));
                }
                while (again.stream().anyMatch(s -> !s.isFinished())) {
                    List<Sequence> active = new ArrayList<>(again);
                    active.removeIf(Sequence::isFinished);
                    encoder.decode(active);
                }
                for (int i = 0; i < expected.size(); i++) {
                    assertArrayEquals(expected.get(i).generatedTokens(), again.get(i).generatedTokens(),
                            c.architecture() + " moved sequence " + i);
                }
            }
        }
    }
}
