package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;

/**
 * The attention loop shared by the layers: for every row of a step and every local head, one
 * {@link Kernels#attention} call over the keys that row may see. Rows and heads are independent tasks spread over
 * the kernels' threads.
 */
final class AttentionOps {
    private AttentionOps() {}

    /** Where the keys and values of a sequence live. */
    enum Source {
        /** The sequence's self-attention cache of this layer: (maxPositions, innerDim); row sees positions [0, pos]. */
        SELF_CACHE,
        /** The sequence's cross-attention cache of this layer: (encoderLength, innerDim); row sees all of it. */
        CROSS_CACHE,
        /** The step's own k and v (numTokens, localInner), bidirectional within the sequence (T5 encoder). */
        LOCAL
    }

    /** Adds a position bias to the scores of one (query position, head); null for none. */
    interface Bias {
        /** Fills bias[0, numKeys) for a query at queryPos and local head hl. */
        void fill(float[] bias, int queryPos, int numKeys, int localHead);
    }

    /**
     * out (numTokens, localInner) = attention of q (numTokens, localInner) over the keys of source.
     * localKeys and localValues are used only for {@link Source#LOCAL}.
     */
    static void attend(Kernels k, StepBatch b, int layer, ShardLayout shard, Source source, float[] q, float[] out,
                       float[] localKeys, float[] localValues, float scale, Bias bias) {
        int heads = shard.numLocalHeads();
        int hd = shard.headDim();
        int li = shard.localInner();
        int inner = shard.numHeads() * hd;
        k.parallelFor(b.numTokens() * heads, task -> {
            int row = task / heads;
            int hl = task % heads;
            int seq = b.sequenceOfRow(row);
            SequenceState s = b.state(seq);
            int pos = b.startPos(seq) + row - b.rowStart(seq);
            float[] keys;
            float[] values;
            int kvOff;
            int stride;
            int numKeys;
            switch (source) {
                case SELF_CACHE -> {
                    keys = s.selfKeys[layer];
                    values = s.selfValues[layer];
                    kvOff = shard.innerStart() + hl * hd;
                    stride = inner;
                    numKeys = pos + 1;
                }
                case CROSS_CACHE -> {
                    keys = s.crossKeys[layer];
                    values = s.crossValues[layer];
                    kvOff = shard.innerStart() + hl * hd;
                    stride = inner;
                    numKeys = s.encoderLength;
                }
                default -> {
                    keys = localKeys;
                    values = localValues;
                    kvOff = b.rowStart(seq) * li + hl * hd;
                    stride = li;
                    numKeys = b.numRows(seq);
                }
            }
            float[] scores = new float[numKeys];
            float[] biasRow = null;
            if (bias != null) {
                biasRow = new float[numKeys];
                bias.fill(biasRow, pos, numKeys, hl);
            }
            k.attention(out, row * li + hl * hd, q, row * li + hl * hd, keys, values, kvOff, stride, numKeys, hd,
                    scale, biasRow, 0, scores);
        });
    }

    /**
     * Copies k and v (numTokens, localInner) into each sequence's self-attention cache of this layer
     * (maxPositions, innerDim), at each row's position and this shard's head columns.
     */
    static void writeSelfCache(StepBatch b, ShardLayout shard, int layer, float[] k, float[] v) {
        int li = shard.localInner();
        int inner = shard.numHeads() * shard.headDim();
        for (int i = 0; i < b.numSequences(); i++) {
            SequenceState s = b.state(i);
            for (int r = 0; r < b.numRows(i); r++) {
                int src = (b.rowStart(i) + r) * li;
                int dst = (b.startPos(i) + r) * inner + shard.innerStart();
                System.arraycopy(k, src, s.selfKeys[layer], dst, li);
                System.arraycopy(v, src, s.selfValues[layer], dst, li);
            }
        }
    }

    /** out[r] += bias for every row r of out (rows, dim). */
    static void addBias(float[] out, float[] bias, int rows, int dim) {
        if (bias == null) return;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < dim; i++) out[r * dim + i] += bias[i];
        }
    }
}
