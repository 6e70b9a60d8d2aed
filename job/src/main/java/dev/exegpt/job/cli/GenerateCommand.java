package dev.exegpt.job.cli;

import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.DeviceLayout;
import dev.exegpt.runtime.engine.EncodeResult;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.engine.GenerationRequest;
import dev.exegpt.runtime.engine.Sequence;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code exegpt generate}: greedy generation for one prompt; prints the tokens and the text. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text for a prompt with a model directory (greedy decoding).")
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory (config.json + model.safetensors).")
    Path model;

    @Option(names = "--prompt", required = true, description = "Prompt text, tokenized by the checkpoint's own tokenizer (its tokenizer.json).")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "20", description = "Tokens to generate at most. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--ignore-eos", description = "Fixed-length mode: produce exactly --max-new-tokens tokens.")
    boolean ignoreEos;

    @Option(names = "--backend", defaultValue = "auto", description = "cpu, cuda or auto. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel degree (CPU: devices are threads; CUDA: 1). Default: ${DEFAULT-VALUE}.")
    int tp;

    @Override
    public Integer call() throws Exception {
        CliErrors.requireModelDir(model);
        Backend chosen = CliErrors.resolveBackend(backend);
        if (chosen == Backend.CUDA && tp != 1) {
            throw new CliErrors.UserError("--tp " + tp + ": the CUDA backend runs a model on one GPU (TP degree 1) in"
                    + " this build; use --tp 1, or --backend cpu for tensor parallelism over threads");
        }
        EngineConfig config = EngineConfig.DEFAULTS.withBackend(chosen).withLayout(DeviceLayout.rra(tp));
        long t0 = System.nanoTime();
        try (Engine engine = Engine.load(model, config)) {
            long loaded = System.nanoTime();
            BpeTokenizer tokenizer = BpeTokenizer.load(model);
            int[] ids = tokenizer.encode(prompt);
            EncodeResult r = engine.generate(List.of(new GenerationRequest("cli", ids, maxNewTokens, ignoreEos)));
            if (!r.rejected().isEmpty()) throw new CliErrors.UserError(r.rejected().get("cli").getMessage());
            Sequence s = r.admitted().get(0);
            double genS = (System.nanoTime() - loaded) / 1e9;
            System.out.printf("model: %s (%s, backend %s, tp %d), loaded in %.1f s%n", model,
                    engine.modelConfig().architecture().name().toLowerCase(), chosen.name().toLowerCase(), tp,
                    (loaded - t0) / 1e9);
            System.out.println("prompt tokens: " + Arrays.toString(ids));
            System.out.println("output tokens: " + Arrays.toString(s.generatedTokens()));
            System.out.println("output text: " + tokenizer.decode(s.generatedTokens()));
            System.out.printf("finish: %s, %d tokens in %.2f s (%.1f tokens/s)%n", s.finishReason(), s.numGenerated(),
                    genS, s.numGenerated() / genS);
        }
        return 0;
    }
}
