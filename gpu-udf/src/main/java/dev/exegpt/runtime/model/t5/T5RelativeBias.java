package dev.exegpt.runtime.model.t5;

import dev.exegpt.runtime.model.AttentionOps;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.Weights;

/**
 * T5's learned relative position bias: the distance key - query falls in one of numBuckets log-spaced buckets
 * (half per direction when bidirectional), and each bucket has one learned scalar per head. Only block 0 of each
 * stack holds the table; every layer of the stack uses it (Hugging Face passes position_bias down the stack).
 */
public final class T5RelativeBias implements AttentionOps.Bias {
    private final float[] table;           // (numBuckets, numLocalHeads): this shard's heads
    private final int numLocalHeads;
    private final boolean bidirectional;
    private final int numBuckets;
    private final int maxDistance;
    private final int[] bucketOfDistance;  // index distance + maxDistance, distance clamped to [-maxDistance, maxDistance]

    T5RelativeBias(ModelConfig c, Weights w, String stack, ShardLayout shard, boolean bidirectional) {
        String name = stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight";
        float[] full = w.get(name, c.numBuckets(), c.numHeads()).data();
        this.numLocalHeads = shard.numLocalHeads();
        this.table = new float[c.numBuckets() * numLocalHeads];
        for (int b = 0; b < c.numBuckets(); b++) {
            System.arraycopy(full, b * c.numHeads() + shard.headStart(), table, b * numLocalHeads, numLocalHeads);
        }
        this.bidirectional = bidirectional;
        this.numBuckets = c.numBuckets();
        this.maxDistance = c.maxDistance();
        // Beyond maxDistance the bucket saturates, so clamping the distance is exact; the table spares a log per score.
        this.bucketOfDistance = new int[2 * maxDistance + 1];
        for (int r = -maxDistance; r <= maxDistance; r++) {
            bucketOfDistance[r + maxDistance] = bucket(r, bidirectional, numBuckets, maxDistance);
        }
    }

    @Override
    public void fill(float[] bias, int queryPos, int numKeys, int localHead) {
        for (int t = 0; t < numKeys; t++) {
            int distance = Math.max(-maxDistance, Math.min(maxDistance, t - queryPos));
            bias[t] = table[bucketOfDistance[distance + maxDistance] * numLocalHeads + localHead];
        }
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
