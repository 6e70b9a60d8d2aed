package dev.exegpt.runtime.model.t5;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Buckets as Hugging Face's _relative_position_bucket gives them (32 buckets, max distance 128). */
class T5RelativeBiasTest {

    @Test
    void bidirectionalBucketsMatchHuggingFace() {
        int[][] cases = {{0, 0}, {-1, 1}, {1, 17}, {7, 23}, {-8, 8}, {-20, 10}, {20, 26}, {-127, 15}, {-200, 15}, {500, 31}};
        for (int[] c : cases) assertEquals(c[1], T5RelativeBias.bucket(c[0], true, 32, 128), "relative " + c[0]);
    }

    @Test
    void causalBucketsIgnoreTheFuture() {
        int[][] cases = {{0, 0}, {3, 0}, {-1, 1}, {-15, 15}, {-16, 16}, {-40, 23}, {-1000, 31}};
        for (int[] c : cases) assertEquals(c[1], T5RelativeBias.bucket(c[0], false, 32, 128), "relative " + c[0]);
    }
}
