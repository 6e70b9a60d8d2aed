package dev.exegpt.runtime.model.llama;

import dev.exegpt.runtime.model.ModelConfig;

/**
 * What only a Llama config holds ({@code config.json}: {@code rope_theta}).
 *
 * @param ropeTheta base of the rotary position frequencies
 */
public record LlamaOptions(double ropeTheta) implements ModelConfig.Options {

    /** The Llama options of c; fails, naming the family, for a config of another family. */
    public static LlamaOptions of(ModelConfig c) {
        if (c.options() instanceof LlamaOptions o) return o;
        throw new IllegalArgumentException(c.architecture() + " config: no Llama options (" + c.options() + ")");
    }
}
