package dev.exegpt.runtime.model;

/**
 * A learned bias on attention scores by bucketed distance (T5's relative position bias): the distance key - query,
 * clamped to [-maxDistance, maxDistance], selects a bucket through {@code bucketOfDistance}, and each bucket holds one
 * scalar per head. Plain data, so every backend reads the same tables: the CPU attention fills a row of biases from
 * it ({@link #fill}), a device backend uploads the table and the bucket map once.
 *
 * @param table (numBuckets, numHeads) of the heads this shard runs
 * @param numHeads heads in a row of table
 * @param bucketOfDistance (2 * maxDistance + 1): bucket of distance - maxDistance
 * @param maxDistance distances beyond saturate into the last bucket, so clamping is exact
 */
public record PositionBias(float[] table, int numHeads, int[] bucketOfDistance, int maxDistance)
        implements AttentionOps.Bias {

    @Override
    public void fill(float[] bias, int queryPos, int numKeys, int localHead) {
        for (int t = 0; t < numKeys; t++) {
            int distance = Math.max(-maxDistance, Math.min(maxDistance, t - queryPos));
            bias[t] = table[bucketOfDistance[distance + maxDistance] * numHeads + localHead];
        }
    }
}
