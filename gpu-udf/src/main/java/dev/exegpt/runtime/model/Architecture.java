package dev.exegpt.runtime.model;

import dev.exegpt.runtime.model.llama.LlamaFamily;
import dev.exegpt.runtime.model.opt.OptFamily;
import dev.exegpt.runtime.model.t5.T5Family;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The registry of model families: one line per family (vLLM's {@code registry.py}, Jlama's
 * {@code ModelSupport.register}). Everything family-specific (config.json schema, weight names, layers, random
 * weights) sits in the family's package behind {@link ModelFamily}; the engine, the profiler and the CLI ask the
 * family, never compare constants.
 */
public enum Architecture {
    /** Encoder-decoder after T5: relative position buckets, RMS norm, ReLU or gated-GELU feed-forward. */
    T5(new T5Family()),
    /** Decoder-only after OPT: learned positions (offset 2), pre-LayerNorm, ReLU feed-forward. */
    OPT(new OptFamily()),
    /** Decoder-only after Llama: RoPE, RMSNorm, SwiGLU, grouped-query attention. */
    LLAMA(new LlamaFamily());

    private final ModelFamily family;

    Architecture(ModelFamily family) {
        this.family = family;
    }

    public ModelFamily family() {
        return family;
    }

    /** Parses a family name ("t5", "opt", "llama"; any case); the message names the accepted values. */
    public static Architecture parse(String s) {
        for (Architecture a : values()) if (a.name().equalsIgnoreCase(s)) return a;
        throw new IllegalArgumentException("architecture '" + s + "': expected one of " + names());
    }

    /** The family whose {@code config.json} carries this {@code model_type}. */
    public static Architecture ofModelType(String modelType) {
        for (Architecture a : values()) {
            if (a.family.modelType().equals(modelType) || a.family.alsoReads().contains(modelType)) return a;
        }
        throw new IllegalArgumentException("model_type='" + modelType + "': expected one of " + modelTypes());
    }

    /** The model_types of config.json the registry runs. */
    public static String modelTypes() {
        List<String> types = new ArrayList<>();
        for (Architecture a : values()) {
            types.add(a.family.modelType());
            types.addAll(a.family.alsoReads());
        }
        return String.join(", ", types);
    }

    /** The family names, lower case, as the CLI takes them. */
    public static String names() {
        return String.join(", ", Arrays.stream(values()).map(a -> a.name().toLowerCase(Locale.ROOT)).toList());
    }
}
