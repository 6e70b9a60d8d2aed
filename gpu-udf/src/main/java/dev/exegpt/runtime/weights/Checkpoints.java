package dev.exegpt.runtime.weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Where a checkpoint directory keeps its weights: one {@code model.safetensors}, or shards listed by
 * {@code model.safetensors.index.json} (how checkpoints above a few GB are published). Any other format is refused in
 * one line that names it and what is supported.
 */
public final class Checkpoints {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    /** What a checkpoint may hold, for error messages. */
    public static final String SUPPORTED = "model.safetensors, or shards listed in model.safetensors.index.json "
            + "(safetensors with F32, F16 or BF16 tensors)";

    private Checkpoints() {}

    /** Whether dir holds weights in a supported format. */
    public static boolean hasWeights(Path dir) {
        return Files.isRegularFile(dir.resolve(SINGLE_FILE)) || Files.isRegularFile(dir.resolve(INDEX_FILE));
    }

    /** Fails, in one line, unless path is a directory with weights in a supported format. */
    /**
     * A model directory the engine loads: config.json and weights in a supported format. Otherwise an
     * IllegalArgumentException that names the directory, the format found (where one is) and what is expected.
     */
    public static void requireModelDir(Path dir) {
        boolean config = java.nio.file.Files.isRegularFile(dir.resolve("config.json"));
        if (config && !hasWeights(dir)) {
            try {
                requireSupported(dir);
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);     // names the format and what is supported
            }
        }
        if (!config || !hasWeights(dir)) {
            throw new IllegalArgumentException(dir + ": expected a directory with config.json and " + SINGLE_FILE
                    + " (make one with: exegpt model init --arch opt --size tiny --out " + dir + ")");
        }
    }

    public static void requireSupported(Path path) throws IOException {
        if (Files.isRegularFile(path)) {
            throw new IOException(path + ": " + formatOf(path.getFileName().toString(), path)
                    + " given as a file; expected a checkpoint directory with config.json and " + SUPPORTED);
        }
        if (hasWeights(path)) return;
        String other = null;
        if (Files.isDirectory(path)) {
            try (Stream<Path> files = Files.list(path)) {
                other = files.map(f -> formatOf(f.getFileName().toString(), f)).filter(f -> f != null)
                        .findFirst().orElse(null);
            }
        }
        throw new IOException(path + ": " + (other != null ? other + " is not supported" : "no weights")
                + "; expected " + SUPPORTED + (other != null && other.contains("PyTorch")
                ? " (transformers writes them: model.save_pretrained(dir, safe_serialization=True))" : ""));
    }

    /** A weights format the name reveals, or null. */
    private static String formatOf(String name, Path file) {
        if (name.equals("pytorch_model.bin") || name.equals("pytorch_model.bin.index.json")
                || (name.startsWith("pytorch_model-") && name.endsWith(".bin"))) {
            return name + " (PyTorch pickle weights)";
        }
        if (name.endsWith(".gguf")) return name + " (GGUF, llama.cpp)";
        if (name.endsWith(".ggml") || name.endsWith(".bin") && name.startsWith("ggml")) return name + " (GGML)";
        if (name.equals("tf_model.h5")) return name + " (TensorFlow/Keras weights)";
        if (name.equals("flax_model.msgpack")) return name + " (Flax weights)";
        if (name.endsWith(".onnx")) return name + " (ONNX graph)";
        if (name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".ckpt")) return name + " (PyTorch checkpoint)";
        if (name.endsWith(".safetensors") && Files.isRegularFile(file)) return name + " (a safetensors file not named "
                + SINGLE_FILE + " and no " + INDEX_FILE + ")";
        return null;
    }

    /** Every tensor of the checkpoint in dir, widened to f32, by name (shards in index order). */
    @SuppressWarnings("unchecked")
    public static Map<String, Tensor> readTensors(Path dir) throws IOException {
        requireSupported(dir);
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) return Safetensors.read(single);
        Path indexFile = dir.resolve(INDEX_FILE);
        Map<String, Object> weightMap;
        try {
            weightMap = (Map<String, Object>) Json.parseObject(Files.readString(indexFile)).get("weight_map");
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new IOException(indexFile + ": " + e.getMessage(), e);
        }
        if (weightMap == null || weightMap.isEmpty()) throw new IOException(indexFile + ": no weight_map");
        Set<String> shards = new LinkedHashSet<>();
        for (Object v : weightMap.values()) shards.add(v.toString());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (String shard : shards) {
            Path file = dir.resolve(shard).normalize();
            if (!file.startsWith(dir.normalize())) throw new IOException(indexFile + ": shard " + shard + " is outside " + dir);
            if (!Files.isRegularFile(file)) throw new IOException(indexFile + ": shard " + shard + " not found");
            tensors.putAll(Safetensors.read(file));
        }
        for (Map.Entry<String, Object> e : weightMap.entrySet()) {
            if (!tensors.containsKey(e.getKey())) {
                throw new IOException(indexFile + ": tensor " + e.getKey() + " is not in its shard " + e.getValue());
            }
        }
        return tensors;
    }
}
