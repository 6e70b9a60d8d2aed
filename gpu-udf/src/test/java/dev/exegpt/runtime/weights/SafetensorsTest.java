package dev.exegpt.runtime.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The safetensors writer and reader round-trip f32 exactly and f16 / bf16 to the nearest representable value. */
class SafetensorsTest {
    private static final Path DIR = Path.of("target", "fixtures", "safetensors");

    private static List<Tensor> sample() {
        Random rnd = new Random(7);
        float[] a = new float[3 * 5];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian() * 10;
        float[] b = {0f, -0f, 1f, -2.5f, 65504f, 6.1035156e-5f, 5.9604645e-8f, 1e-3f, 3.1415927f};
        return List.of(new Tensor("layer.0.weight", new int[] {3, 5}, a), new Tensor("odd", new int[] {9}, b));
    }

    @Test
    void f32RoundTripIsExact() throws IOException {
        Files.createDirectories(DIR);
        Path f = DIR.resolve("f32.safetensors");
        Safetensors.write(f, sample(), DType.F32);
        Map<String, Tensor> back = Safetensors.read(f);
        assertEquals(List.of("layer.0.weight", "odd"), List.copyOf(back.keySet()));
        for (Tensor t : sample()) {
            assertArrayEquals(t.shape(), back.get(t.name()).shape());
            assertArrayEquals(t.data(), back.get(t.name()).data(), 0f);
        }
    }

    @Test
    void halfAndBfloat16RoundTripToNearestValue() throws IOException {
        Files.createDirectories(DIR);
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            Path f = DIR.resolve(dtype + ".safetensors");
            Safetensors.write(f, sample(), dtype);
            Map<String, Tensor> back = Safetensors.read(f);
            for (Tensor t : sample()) {
                float[] got = back.get(t.name()).data();
                for (int i = 0; i < got.length; i++) {
                    float x = t.data()[i];
                    float rel = dtype == DType.F16 ? 1f / 2048 : 1f / 256;
                    float tolerance = Math.max(Math.abs(x) * rel, dtype == DType.F16 ? 6e-8f : 0f);
                    assertEquals(x, got[i], tolerance, dtype + " " + t.name() + "[" + i + "]");
                }
            }
        }
        assertEquals(65504f, DType.halfToFloat(DType.floatToHalf(65504f)));
        assertEquals(Float.POSITIVE_INFINITY, DType.halfToFloat(DType.floatToHalf(1e6f)));
        assertEquals(1f, DType.bf16ToFloat(DType.floatToBf16(1f)));
        assertEquals(5.9604645e-8f, DType.halfToFloat((short) 1));             // smallest subnormal
    }

    @Test
    void checkpointWriterOutputLoadsBackWithItsConfig() throws IOException {
        Path dir = DIR.resolve("opt-tiny");
        ModelConfig c = ModelSize.TINY.config(Architecture.OPT);
        CheckpointWriter.writeRandom(dir, c, 5);
        assertEquals(c, ModelConfig.read(dir));
        Map<String, Tensor> tensors = Safetensors.read(dir.resolve("model.safetensors"));
        assertArrayEquals(new int[] {c.vocabSize(), c.dModel()}, tensors.get("model.decoder.embed_tokens.weight").shape());
        assertArrayEquals(new int[] {c.maxPositions() + 2, c.dModel()},
                tensors.get("model.decoder.embed_positions.weight").shape());
        assertArrayEquals(RandomWeights.generate(c, 5).get(3).data(), tensors.get("model.decoder.layers.0.self_attn.k_proj.bias").data(), 0f);
    }

    @Test
    void truncatedFileFailsWithItsName() throws IOException {
        Files.createDirectories(DIR);
        Path f = DIR.resolve("truncated.safetensors");
        Safetensors.write(f, sample(), DType.F32);
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 10));
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(f));
        assertTrue(e.getMessage().contains("truncated.safetensors"), e.getMessage());
    }
}
