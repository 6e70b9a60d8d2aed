package dev.exegpt.runtime.model;

import static dev.exegpt.runtime.Require.require;

/**
 * Which slice of each weight tensor-parallel shard {@code shardIndex} of {@code tpDegree} owns (Megatron split:
 * q, k, v and the first feed-forward projection split by output features, the attention output and the second
 * feed-forward projection split by input features, joined by an all-reduce).
 */
public record ShardLayout(int shardIndex, int tpDegree, int numHeads, int headDim, int ffnDim) {

    public ShardLayout {
        require(tpDegree >= 1, "tpDegree=%s: must be at least 1", tpDegree);
        require(shardIndex >= 0 && shardIndex < tpDegree, "shardIndex=%s: must be in [0, %s)", shardIndex, tpDegree);
        require(numHeads % tpDegree == 0, "tpDegree=%s must divide numHeads=%s", tpDegree, numHeads);
        require(ffnDim % tpDegree == 0, "tpDegree=%s must divide ffnDim=%s", tpDegree, ffnDim);
    }

    /** The whole model on one device. */
    public static ShardLayout single(ModelConfig c) {
        return new ShardLayout(0, 1, c.numHeads(), c.headDim(), c.ffnDim());
    }

    /** Heads of this shard. */
    public int numLocalHeads() { return numHeads / tpDegree; }

    /** First head of this shard. */
    public int headStart() { return numLocalHeads() * shardIndex; }

    /** Width of this shard's q, k and v: local heads times head dimension. */
    public int localInner() { return numLocalHeads() * headDim; }

    /** Offset of this shard's heads in a full-width (all heads) row. */
    public int innerStart() { return headStart() * headDim; }

    /** Feed-forward columns of this shard. */
    public int localFfn() { return ffnDim / tpDegree; }

    /** First feed-forward column of this shard. */
    public int ffnStart() { return localFfn() * shardIndex; }
}
