package dev.exegpt.runtime.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Sharded safetensors load as one file does; pytorch_model.bin, GGUF and the rest are refused in one line. */
class CheckpointFormatsTest {
    private static final Path DIR = Path.of("target", "checkpoint-formats");

    @Test
    void shouldLoadShardedBf16CheckpointAsTheSingleFileOne() throws IOException {
        ModelConfig c = ModelSize.TINY.config(Architecture.OPT);
        List<Tensor> tensors = RandomWeights.generate(c, 7);
        Path single = DIR.resolve("single-bf16");
        Path sharded = DIR.resolve("sharded-bf16");
        CheckpointWriter.write(single, c, tensors, DType.BF16);
        CheckpointWriter.writeSharded(sharded, c, tensors, DType.BF16, 50_000);
        long numShards;
        try (var files = Files.list(sharded)) {
            numShards = files.filter(f -> f.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors")).count();
        }
        assertTrue(numShards >= 3, "shards: " + numShards);
        assertFalse(Files.exists(sharded.resolve(Checkpoints.SINGLE_FILE)));
        Map<String, Tensor> a = Checkpoints.readTensors(single);
        Map<String, Tensor> b = Checkpoints.readTensors(sharded);
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) assertArrayEquals(a.get(name).data(), b.get(name).data(), 0f, name);
        try (Engine engine = Engine.load(sharded, EngineConfig.DEFAULTS.withBackend(dev.exegpt.runtime.engine.Backend.CPU))) {
            assertEquals(c, engine.modelConfig());
        }
    }

    @Test
    void shouldRefusePytorchBinInOneLineNamingFormatAndWhatIsSupported() throws IOException {
        Path dir = DIR.resolve("pytorch-bin");
        CheckpointWriter.writeRandom(dir, ModelSize.TINY.config(Architecture.OPT), 1);
        Files.delete(dir.resolve(Checkpoints.SINGLE_FILE));
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {0x50, 0x4b, 3, 4});
        IOException e = assertThrows(IOException.class,
                () -> Engine.load(dir, EngineConfig.DEFAULTS.withBackend(dev.exegpt.runtime.engine.Backend.CPU)));
        assertOneLine(e.getMessage(), "pytorch_model.bin (PyTorch pickle weights) is not supported");
        assertTrue(e.getMessage().contains(Checkpoints.SUPPORTED), e.getMessage());
    }

    @Test
    void shouldRefuseGgufAndUnindexedShardsInOneLine() throws IOException {
        Path gguf = DIR.resolve("gguf");
        Files.createDirectories(gguf);
        Files.write(gguf.resolve("model-q4_0.gguf"), "GGUF".getBytes());
        assertOneLine(assertThrows(IOException.class, () -> Checkpoints.readTensors(gguf)).getMessage(),
                "model-q4_0.gguf (GGUF, llama.cpp) is not supported");
        assertOneLine(assertThrows(IOException.class, () -> Checkpoints.requireSupported(gguf.resolve("model-q4_0.gguf")))
                .getMessage(), "GGUF");
        Path loose = DIR.resolve("loose-shard");
        Files.createDirectories(loose);
        Safetensors.write(loose.resolve("model-00001-of-00002.safetensors"),
                List.of(new Tensor("x", new int[] {2}, new float[] {1, 2})), DType.F32);
        assertOneLine(assertThrows(IOException.class, () -> Checkpoints.readTensors(loose)).getMessage(),
                "no model.safetensors.index.json");
        Path empty = DIR.resolve("empty");
        Files.createDirectories(empty);
        assertOneLine(assertThrows(IOException.class, () -> Checkpoints.readTensors(empty)).getMessage(), "no weights");
    }

    private static void assertOneLine(String message, String part) {
        assertFalse(message.contains("\n"), message);
        assertTrue(message.contains(part), message);
    }
}
