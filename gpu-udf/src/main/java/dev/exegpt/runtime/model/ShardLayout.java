package dev.exegpt.runtime.model;

import static dev.exegpt.runtime.Require.require;

/**
 * Which slice of each weight tensor-parallel shard {@code shardIndex} of {@code tpDegree} owns (Megatron split:
 * q, k, v and the first feed-forward projection split by output features, the attention output and the second
 * feed-forward projection split by input features, joined by an all-reduce). Under grouped-query attention the
 * shard owns numKvHeads / tpDegree key/value heads, those its query heads read.
 */
public record ShardLayout(int shardIndex, int tpDegree, int numHeads, int headDim, int ffnDim, int numKvHeads) {

    public ShardLayout {
        require(tpDegree >= 1, "tpDegree=%s: must be at least 1", tpDegree);
        require(shardIndex >= 0 && shardIndex < tpDegree, "shardIndex=%s: must be in [0, %s)", shardIndex, tpDegree);
        require(numHeads % tpDegree == 0, "tpDegree=%s must divide numHeads=%s", tpDegree, numHeads);
        require(numKvHeads > 0 && numHeads % numKvHeads == 0, "numKvHeads=%s must divide numHeads=%s", numKvHeads, numHeads);
        require(numKvHeads % tpDegree == 0, "tpDegree=%s must divide numKvHeads=%s", tpDegree, numKvHeads);
        require(ffnDim % tpDegree == 0, "tpDegree=%s must divide ffnDim=%s", tpDegree, ffnDim);
    }

    /** Multi-head attention: as many key/value heads as query heads. */
    public ShardLayout(int shardIndex, int tpDegree, int numHeads, int headDim, int ffnDim) {
        this(shardIndex, tpDegree, numHeads, headDim, ffnDim, numHeads);
    }

    /** Shard {@code shardIndex} of {@code tpDegree} of the model {@code c}. */
    public static ShardLayout of(ModelConfig c, int shardIndex, int tpDegree) {
        return new ShardLayout(shardIndex, tpDegree, c.numHeads(), c.headDim(), c.ffnDim(), c.numKvHeads());
    }

    /** The whole model on one device. */
    public static ShardLayout single(ModelConfig c) {
        return of(c, 0, 1);
    }

    /** Heads of this shard. */
    public int numLocalHeads() { return numHeads / tpDegree; }

    /** First head of this shard. */
    public int headStart() { return numLocalHeads() * shardIndex; }

    /** Width of this shard's q and attention output: local heads times head dimension. */
    public int localInner() { return numLocalHeads() * headDim; }

    /** Offset of this shard's heads in a full-width (all heads) row. */
    public int innerStart() { return headStart() * headDim; }

    /** Key/value heads of this shard. */
    public int numLocalKvHeads() { return numKvHeads / tpDegree; }

    /** First key/value head of this shard. */
    public int kvHeadStart() { return numLocalKvHeads() * shardIndex; }

    /** Width of this shard's k and v. */
    public int localKvInner() { return numLocalKvHeads() * headDim; }

    /** Offset of this shard's key/value heads in a full-width KV row (numKvHeads * headDim). */
    public int kvInnerStart() { return kvHeadStart() * headDim; }

    /** Width of a full KV-cache row: all key/value heads. */
    public int kvDim() { return numKvHeads * headDim; }

    /** The key/value head (global index) that local query head {@code localHead} reads. */
    public int kvHeadOf(int localHead) { return (headStart() + localHead) / (numHeads / numKvHeads); }

    /** Feed-forward columns of this shard. */
    public int localFfn() { return ffnDim / tpDegree; }

    /** First feed-forward column of this shard. */
    public int ffnStart() { return localFfn() * shardIndex; }
}
