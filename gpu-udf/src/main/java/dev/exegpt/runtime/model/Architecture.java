package dev.exegpt.runtime.model;

/** The model families this runtime runs. */
public enum Architecture {
    /** Encoder-decoder after T5: relative position buckets, RMS norm, ReLU or gated-GELU feed-forward. */
    T5,
    /** Decoder-only after OPT: learned positions (offset 2), pre-LayerNorm, ReLU feed-forward. */
    OPT;

    /** Parses "t5" or "opt" (any case); the message names the accepted values. */
    public static Architecture parse(String s) {
        for (Architecture a : values()) if (a.name().equalsIgnoreCase(s)) return a;
        throw new IllegalArgumentException("architecture '" + s + "': expected t5 or opt");
    }
}
