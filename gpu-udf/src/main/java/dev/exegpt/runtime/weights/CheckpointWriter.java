package dev.exegpt.runtime.weights;

import dev.exegpt.runtime.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes a model directory as Hugging Face lays it out: {@code config.json} and {@code model.safetensors}. */
public final class CheckpointWriter {
    private CheckpointWriter() {}

    /** Writes config and tensors (stored as dtype) into dir, creating it; returns the bytes of the weights file. */
    public static long write(Path dir, ModelConfig config, List<Tensor> tensors, DType dtype) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), Json.writePretty(config.toJson()));
        Path weights = dir.resolve("model.safetensors");
        Safetensors.write(weights, tensors, dtype);
        return Files.size(weights);
    }

    /** Generates seeded random weights for config and writes them as f32. */
    public static long writeRandom(Path dir, ModelConfig config, long seed) throws IOException {
        return write(dir, config, RandomWeights.generate(config, seed), DType.F32);
    }
}
