package dev.exegpt.runtime.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.DType;
import dev.exegpt.runtime.weights.RandomWeights;
import dev.exegpt.runtime.weights.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Checkpoints as Hugging Face variants store them load unchanged: OPT saved without the {@code model.} prefix, T5
 * with the shared embedding under {@code encoder.embed_tokens.weight}, weights in bf16; a missing tensor fails with
 * its name.
 */
class CheckpointNamesTest {

    private static List<Sequence> generate(Path dir) throws IOException {
        try (Engine e = Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU))) {
            return e.generate(EngineNumericsTest.requests(4, 9)).admitted();
        }
    }

    private static Path writeRenamed(String name, ModelConfig c, String from, String to, DType dtype) throws IOException {
        List<Tensor> renamed = new ArrayList<>();
        for (Tensor t : RandomWeights.generate(c, TestModels.SEED)) {
            String n = t.name().startsWith(from) ? to + t.name().substring(from.length()) : t.name();
            renamed.add(new Tensor(n, t.shape(), t.data()));
        }
        Path dir = Path.of("target", "fixtures", name);
        CheckpointWriter.write(dir, c, renamed, dtype);
        return dir;
    }

    @Test
    void variantNamesLoadAndGiveTheSameTokens() throws IOException {
        ModelConfig opt = TestModels.tinyOpt();
        List<Sequence> expected = generate(TestModels.write("names-opt", opt));
        List<Sequence> unprefixed = generate(writeRenamed("names-opt-base", opt, "model.decoder.", "decoder.", DType.F32));
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i).generatedTokens(), unprefixed.get(i).generatedTokens());
        }
        ModelConfig t5 = TestModels.tinyT5();
        List<Sequence> t5Expected = generate(TestModels.write("names-t5", t5));
        List<Sequence> embedTokens = generate(writeRenamed("names-t5-embed", t5, "shared.", "encoder.embed_tokens.", DType.F32));
        for (int i = 0; i < t5Expected.size(); i++) {
            assertArrayEquals(t5Expected.get(i).generatedTokens(), embedTokens.get(i).generatedTokens());
        }
        generate(writeRenamed("names-t5-bf16", t5, "shared.", "shared.", DType.BF16));     // bf16 loads and runs
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path dir = writeRenamed("names-missing", TestModels.tinyOpt(), "model.decoder.layers.1.fc2.weight", "unused", DType.F32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Engine.load(dir, EngineConfig.DEFAULTS.withBackend(Backend.CPU)));
        assertTrue(e.getMessage().contains("model.decoder.layers.1.fc2.weight is missing"), e.getMessage());
    }
}
