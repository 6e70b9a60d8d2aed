package dev.exegpt.job.cli;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.DType;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.runtime.weights.RandomWeights;
import dev.exegpt.runtime.weights.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code exegpt model init}: a Hugging Face checkpoint of seeded random weights, complete as users have them
 * (config.json, generation_config.json, tokenizer.json + tokenizer_config.json with GPT-2's BPE, model.safetensors).
 */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Write a Hugging Face checkpoint with seeded random weights (config.json, generation_config.json, "
                + "tokenizer.json, model.safetensors).")
public final class ModelInitCommand implements Callable<Integer> {
    @Option(names = "--arch", required = true, description = "t5 (encoder-decoder), opt or llama (decoder-only; llama: RoPE, RMSNorm, SwiGLU, grouped-query attention).")
    String arch;

    @Option(names = "--size", defaultValue = "tiny", description = "tiny (tests), small, or base (GPT-2-small / T5-base scale). Default: ${DEFAULT-VALUE}.")
    String size;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the random weights. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--dtype", defaultValue = "f32", description = "Stored element type: f32, f16 or bf16. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--out", required = true, description = "Directory to write (created if missing).")
    Path out;

    @Override
    public Integer call() throws Exception {
        ModelConfig config = ModelSize.parse(size).config(Architecture.parse(arch));
        DType type;
        try {
            type = DType.valueOf(dtype.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new CliErrors.UserError("--dtype=" + dtype + ": expected f32, f16 or bf16", CliErrors.EXIT_USAGE);
        }
        long t0 = System.nanoTime();
        List<Tensor> tensors = RandomWeights.generate(config, seed);
        long params = tensors.stream().mapToLong(t -> t.numElements()).sum();
        long bytes = CheckpointWriter.write(out, config, tensors, type);
        System.out.printf("wrote %s: %s %s, %,d parameters, %d tensors, model.safetensors %.1f MiB (%s), seed %d, %.1f s%n",
                out, arch.toLowerCase(), size.toLowerCase(), params, tensors.size(), bytes / 1048576.0, type, seed,
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
