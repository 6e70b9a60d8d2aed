package dev.exegpt.runtime.model.t5;

import dev.exegpt.runtime.model.PositionBias;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.Weights;

/**
 * T5's learned relative position bias: the distance key - query falls in one of numBuckets log-spaced buckets
 * (half per direction when bidirectional), and each bucket has one learned scalar per head. Only block 0 of each
 * stack holds the table; every layer of the stack uses it (Hugging Face passes position_bias down the stack). The
 * result is a {@link PositionBias}, which every backend applies the same way.
 */
public final class T5RelativeBias {
    private T5RelativeBias() {}

    /** The bias of one stack ("encoder", "decoder") for this shard's heads. */
    static PositionBias of(ModelConfig c, Weights w, String stack, ShardLayout shard, boolean bidirectional) {
        int numBuckets = T5Options.of(c).numBuckets();
        String name = stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight";
        float[] full = w.get(name, numBuckets, c.numHeads()).data();
        int numLocalHeads = shard.numLocalHeads();
        float[] table = new float[numBuckets * numLocalHeads];
        for (int b = 0; b < numBuckets; b++) {
            System.arraycopy(full, b * c.numHeads() + shard.headStart(), table, b * numLocalHeads, numLocalHeads);
        }
        int maxDistance = T5Options.of(c).maxDistance();
        // Beyond maxDistance the bucket saturates, so clamping the distance is exact; the table spares a log per score.
        int[] bucketOfDistance = new int[2 * maxDistance + 1];
        for (int r = -maxDistance; r <= maxDistance; r++) {
            bucketOfDistance[r + maxDistance] = bucket(r, bidirectional, numBuckets, maxDistance);
        }
        return new PositionBias(table, numLocalHeads, bucketOfDistance, maxDistance);
    }

    /** Hugging Face's {@code _relative_position_bucket}, in f32 as torch computes it. */
    public static int bucket(int relativePosition, boolean bidirectional, int numBuckets, int maxDistance) {
        int bucket = 0;
        int n = numBuckets;
        int rel = relativePosition;
        if (bidirectional) {
            n /= 2;
            if (rel > 0) bucket += n;
            rel = Math.abs(rel);
        } else {
            rel = -Math.min(rel, 0);
        }
        int maxExact = n / 2;
        if (rel < maxExact) return bucket + rel;
        float ratio = (float) Math.log(rel / (float) maxExact) / (float) Math.log(maxDistance / (float) maxExact);
        int large = maxExact + (int) (ratio * (n - maxExact));
        return bucket + Math.min(large, n - 1);
    }
}
