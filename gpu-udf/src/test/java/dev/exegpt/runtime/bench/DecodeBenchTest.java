package dev.exegpt.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.weights.DType;
import dev.exegpt.runtime.weights.ModelSize;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecodeBenchTest {
    @Test
    void theYardstickIsSampledBeforeBetweenAndAfterTheTimedSteps() {
        double[] next = {0};
        List<DecodeBench.Result> rs = DecodeBench.run(ModelSize.TINY.config(Architecture.OPT), "opt-tiny", 1,
                new int[] {1, 2}, 4, 7, EngineConfig.DEFAULTS, DType.BF16, () -> ++next[0],
                new PrintStream(OutputStream.nullOutputStream()));
        // 7 steps, a sample every 5: before step 0, before step 5, after the last; then the same for batch 2.
        assertArrayEquals(new double[] {1, 2, 3}, rs.get(0).yardstickSamples());
        assertArrayEquals(new double[] {4, 5, 6}, rs.get(1).yardstickSamples());
        assertEquals(5, rs.get(1).yardstickMedian());
        assertTrue(rs.get(0).msPerStep() > 0 && rs.get(0).weightGbPerSecond() > 0);
    }

    @Test
    void typesSideBySideShareTheYardsticksSamplesAndEachGetsItsOwnSteps() {
        double[] next = {0};
        java.util.Map<DType, List<DecodeBench.Result>> byType = DecodeBench.runSideBySide(
                ModelSize.TINY.config(Architecture.OPT), "opt-tiny", 1, new int[] {1, 3}, 4, 6, EngineConfig.DEFAULTS,
                List.of(DType.F32, DType.BF16), () -> ++next[0], new PrintStream(OutputStream.nullOutputStream()));
        assertEquals(List.of(DType.F32, DType.BF16), List.copyOf(byType.keySet()));
        for (List<DecodeBench.Result> rs : byType.values()) {
            // 6 steps a type in two turns: a sample before each turn and one after the last, shared by both types.
            assertArrayEquals(new double[] {1, 2, 3}, rs.get(0).yardstickSamples());
            assertArrayEquals(new double[] {4, 5, 6}, rs.get(1).yardstickSamples());
            assertEquals(List.of(1, 3), rs.stream().map(DecodeBench.Result::batchSize).toList());
            assertTrue(rs.get(1).msPerStep() > 0 && rs.get(1).allocatedBytesPerStep() >= 0);
        }
        // bf16 streams half the bytes of f32 a step: the rate each reports is in its own type's bytes.
        DecodeBench.Result f32 = byType.get(DType.F32).get(0);
        DecodeBench.Result bf16 = byType.get(DType.BF16).get(0);
        assertEquals(f32.weightGbPerSecond() * f32.msPerStep(), 2 * bf16.weightGbPerSecond() * bf16.msPerStep(),
                1e-9 * f32.weightGbPerSecond() * f32.msPerStep());
    }

    @Test
    void aTypeNamedTwiceIsRefused() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> DecodeBench.runSideBySide(ModelSize.TINY.config(Architecture.OPT), "opt-tiny", 1, new int[] {1}, 4,
                        3, EngineConfig.DEFAULTS, List.of(DType.F32, DType.F32), null,
                        new PrintStream(OutputStream.nullOutputStream())));
        assertTrue(e.getMessage().contains("distinct"), e.getMessage());
    }

    @Test
    void withoutAYardstickThereAreNoSamples() {
        List<DecodeBench.Result> rs = DecodeBench.run(ModelSize.TINY.config(Architecture.LLAMA), "llama-tiny", 1,
                new int[] {1}, 4, 3, new PrintStream(OutputStream.nullOutputStream()));
        assertEquals(0, rs.get(0).yardstickSamples().length);
        assertTrue(Double.isNaN(rs.get(0).yardstickMedian()));
    }

    @Test
    void theStreamProbesMeasureARateOnEveryThreadAtOnce() {
        try (PeakProbe.Stream triad = PeakProbe.Stream.triad(1); PeakProbe.Stream read = PeakProbe.Stream.read(1)) {
            // A memory system moves between about 1 and 1000 GB/s; anything else is a timing or counting error.
            for (double gbPerSecond : new double[] {triad.sample(), triad.sample(), read.sample(), read.sample()}) {
                assertTrue(gbPerSecond > 1 && gbPerSecond < 1000, gbPerSecond + " GB/s");
            }
        }
    }
}
