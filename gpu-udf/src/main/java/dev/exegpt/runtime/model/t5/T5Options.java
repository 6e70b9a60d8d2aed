package dev.exegpt.runtime.model.t5;

import dev.exegpt.runtime.model.ModelConfig;

/**
 * What only a T5 config holds ({@code config.json}: {@code relative_attention_num_buckets},
 * {@code relative_attention_max_distance}, {@code feed_forward_proj}).
 *
 * @param numBuckets relative attention buckets
 * @param maxDistance relative attention max distance
 * @param gatedGelu the feed-forward is gated-GELU ({@code "gated-gelu"}, T5 v1.1) instead of ReLU
 */
public record T5Options(int numBuckets, int maxDistance, boolean gatedGelu) implements ModelConfig.Options {

    /** The T5 options of c; fails, naming the family, for a config of another family. */
    public static T5Options of(ModelConfig c) {
        if (c.options() instanceof T5Options o) return o;
        throw new IllegalArgumentException(c.architecture() + " config: no T5 options (" + c.options() + ")");
    }
}
