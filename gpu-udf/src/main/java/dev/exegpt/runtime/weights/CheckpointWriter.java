package dev.exegpt.runtime.weights;

import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.tokenizer.ByteLevelBpe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a model directory as Hugging Face lays it out, so that a checkpoint made here looks like one a user brings
 * and loads in transformers' {@code from_pretrained}: {@code config.json}, {@code generation_config.json}, the
 * tokenizer ({@code tokenizer.json}, GPT-2's byte-level BPE rebuilt from jtokkit's ranks, and
 * {@code tokenizer_config.json}) and the weights, one {@code model.safetensors} or shards with their
 * {@code model.safetensors.index.json}.
 */
public final class CheckpointWriter {
    private CheckpointWriter() {}

    /** Writes config, tokenizer and tensors (stored as dtype) into dir, creating it; returns the bytes of the weights. */
    public static long write(Path dir, ModelConfig config, List<Tensor> tensors, DType dtype) throws IOException {
        writeConfigsAndTokenizer(dir, config, dtype);
        Path weights = dir.resolve(Checkpoints.SINGLE_FILE);
        Safetensors.write(weights, tensors, dtype);
        return Files.size(weights);
    }

    /**
     * Like {@link #write} with the tensors in shards of at most maxShardBytes each (a tensor larger than that gets a
     * shard of its own), named {@code model-00001-of-0000N.safetensors} as transformers' {@code save_pretrained} does.
     */
    public static long writeSharded(Path dir, ModelConfig config, List<Tensor> tensors, DType dtype, long maxShardBytes)
            throws IOException {
        writeConfigsAndTokenizer(dir, config, dtype);
        List<List<Tensor>> shards = new ArrayList<>();
        long shardBytes = 0;
        for (Tensor t : tensors) {
            long bytes = (long) t.numElements() * dtype.numBytes();
            if (shards.isEmpty() || (shardBytes + bytes > maxShardBytes && shardBytes > 0)) {
                shards.add(new ArrayList<>());
                shardBytes = 0;
            }
            shards.get(shards.size() - 1).add(t);
            shardBytes += bytes;
        }
        Map<String, Object> weightMap = new LinkedHashMap<>();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            Safetensors.write(dir.resolve(name), shards.get(i), dtype);
            for (Tensor t : shards.get(i)) {
                weightMap.put(t.name(), name);
                total += (long) t.numElements() * dtype.numBytes();
            }
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", total));
        index.put("weight_map", weightMap);
        Files.writeString(dir.resolve(Checkpoints.INDEX_FILE), Json.writePretty(index));
        return total;
    }

    /** Generates seeded random weights for config and writes them as f32. */
    public static long writeRandom(Path dir, ModelConfig config, long seed) throws IOException {
        return write(dir, config, RandomWeights.generate(config, seed), DType.F32);
    }

    private static void writeConfigsAndTokenizer(Path dir, ModelConfig config, DType dtype) throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> json = config.toJson();
        json.put("torch_dtype", switch (dtype) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        });
        Files.writeString(dir.resolve("config.json"), Json.writePretty(json));
        Files.writeString(dir.resolve("generation_config.json"), Json.writePretty(generationConfig(config)));
        writeGpt2Tokenizer(dir, config);
    }

    private static Map<String, Object> generationConfig(ModelConfig config) {
        Map<String, Object> g = new LinkedHashMap<>();
        if (config.bosTokenId() >= 0) g.put("bos_token_id", config.bosTokenId());
        g.put("eos_token_id", config.eosTokenId());
        g.put("pad_token_id", config.family().padTokenId(config));               // as config.json says
        if (config.decoderStartTokenId() >= 0) g.put("decoder_start_token_id", config.decoderStartTokenId());
        return g;
    }

    /**
     * GPT-2's BPE, the vocabulary of the checkpoints made here: OPT prompts start with BOS (config id, 2), Llama
     * prompts with {@code <|endoftext|>} (its BOS), T5 prompts get nothing appended, so the ids are those jtokkit's r50k_base gave before tokenizer.json was written.
     */
    private static void writeGpt2Tokenizer(Path dir, ModelConfig config) throws IOException {
        ByteLevelBpe bpe = GPT2.get();
        int endOfText = bpe.vocab().get(ByteLevelBpe.GPT2_END_OF_TEXT);
        boolean bos = config.family().prependsBos(config);
        // Llama checkpoints made here begin with <|endoftext|> itself; OPT's BOS id 2 gets a name of its own
        String bosContent = config.bosTokenId() == endOfText ? ByteLevelBpe.GPT2_END_OF_TEXT : "<bos>";
        Map<String, Object> tokenizer = bpe.tokenizerJson(
                List.of(new ByteLevelBpe.AddedToken(endOfText, ByteLevelBpe.GPT2_END_OF_TEXT)),
                bos ? config.bosTokenId() : -1, bosContent);
        Files.writeString(dir.resolve("tokenizer.json"), Json.write(tokenizer));
        Map<String, Object> tc = new LinkedHashMap<>();
        tc.put("tokenizer_class", "PreTrainedTokenizerFast");
        tc.put("eos_token", ByteLevelBpe.GPT2_END_OF_TEXT);
        tc.put("model_max_length", config.maxPositions());
        tc.put("clean_up_tokenization_spaces", false);
        Files.writeString(dir.resolve("tokenizer_config.json"), Json.writePretty(tc));
    }

    /** GPT-2's BPE takes about a second to rebuild; every checkpoint written in a JVM shares it. */
    private static final class GPT2 {
        private static final ByteLevelBpe BPE = ByteLevelBpe.gpt2();

        static ByteLevelBpe get() {
            return BPE;
        }
    }
}
