package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;
import java.util.function.IntConsumer;

/**
 * The attention loop shared by the families: for every row of a step and every local query head, one
 * {@link Kernels#attention} call over the keys that row may see. Rows and heads are independent tasks spread over
 * the kernels' threads. Any number of key/value heads: query head h reads key/value head
 * {@link ShardLayout#kvHeadOf} (grouped-query attention; multi-head when the counts are equal).
 */
public final class AttentionOps {
    private AttentionOps() {}

    /** Per-thread arrays reused step after step (grown, never shrunk), so that a decode step's attention allocates none. */
    private static final class Scratch {
        int[] taskSeq = new int[0];
        int[] taskRow = new int[0];
        float[] scores = new float[0];
        float[] bias = new float[0];
        final KeyView keyView = new KeyView();
        final Task task = new Task(this);
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static int[] grow(int[] a, int n) {
        return a.length >= n ? a : new int[Math.max(n, a.length * 2)];
    }

    private static float[] grow(float[] a, int n) {
        return a.length >= n ? a : new float[Math.max(n, a.length * 2)];
    }

    /** Where the keys and values of a sequence live. */
    public enum Source {
        /** The sequence's self-attention cache of this layer: (maxPositions, kvDim); row sees positions [0, pos]. */
        SELF_CACHE,
        /** The sequence's cross-attention cache of this layer: (encoderLength, kvDim); row sees all of it. */
        CROSS_CACHE,
        /** The step's own k and v (numTokens, localKvInner), bidirectional within the sequence (T5 encoder). */
        LOCAL
    }

    /** Adds a position bias to the scores of one (query position, head); null for none. */
    public interface Bias {
        /** Fills bias[0, numKeys) for a query at queryPos and local head hl. */
        void fill(float[] bias, int queryPos, int numKeys, int localHead);
    }

    /** Sequences with at least this many rows in a step (prefill) attend as blocks of matrix products. */
    static final int BLOCK_MIN_ROWS = 8;

    /**
     * Where one sequence's keys and values of one head are: key t of the head starts at keys[offset + t * stride].
     * Mutable and kept per thread (see {@link Scratch}): a record made per task was 4.7 KB of garbage a T5 decode step
     * (C2 did not scalar-replace it).
     */
    private static final class KeyView {
        float[] keys;
        float[] values;
        int offset;
        int stride;

        KeyView set(float[] keys, float[] values, int offset, int stride) {
            this.keys = keys;
            this.values = values;
            this.offset = offset;
            this.stride = stride;
            return this;
        }

        float[] keys() { return keys; }

        float[] values() { return values; }

        int offset() { return offset; }

        int stride() { return stride; }
    }

    private static KeyView keysOf(KeyView into, StepBatch b, int seq, int layer, ShardLayout shard, Source source,
                                  int hl, float[] localKeys, float[] localValues) {
        SequenceState s = b.state(seq);
        int hd = shard.headDim();
        int kvHead = shard.kvHeadOf(hl);
        int kvDim = shard.kvDim();
        return switch (source) {
            case SELF_CACHE -> into.set(s.selfKeys[layer], s.selfValues[layer], kvHead * hd, kvDim);
            case CROSS_CACHE -> into.set(s.crossKeys[layer], s.crossValues[layer], kvHead * hd, kvDim);
            case LOCAL -> into.set(localKeys, localValues,
                    b.rowStart(seq) * shard.localKvInner() + (kvHead - shard.kvHeadStart()) * hd, shard.localKvInner());
        };
    }

    /** Keys a query at position pos of sequence seq may see: causal for the self cache, all for the others. */
    private static int numKeys(StepBatch b, int seq, Source source, int pos) {
        return switch (source) {
            case SELF_CACHE -> pos + 1;
            case CROSS_CACHE -> b.state(seq).encoderLength;
            case LOCAL -> b.numRows(seq);
        };
    }

    /**
     * out (numTokens, localInner) = attention of q (numTokens, localInner) over the keys of source.
     * localKeys and localValues (numTokens, localKvInner) are used only for {@link Source#LOCAL}. Tasks are (row, head) pairs, or (sequence,
     * head) blocks for sequences with many rows.
     */
    public static void attend(Kernels k, StepBatch b, int layer, ShardLayout shard, Source source, float[] q, float[] out,
                       float[] localKeys, float[] localValues, float scale, Bias bias) {
        int heads = shard.numLocalHeads();
        int numTasks = 0;
        Scratch mine = SCRATCH.get();                                   // the caller's; helpers read it in the loop
        int[] taskSeq = mine.taskSeq = grow(mine.taskSeq, b.numTokens() * heads);
        int[] taskRow = mine.taskRow = grow(mine.taskRow, b.numTokens() * heads);     // -1: the whole sequence as a block
        for (int i = 0; i < b.numSequences(); i++) {
            boolean block = source != Source.CROSS_CACHE && b.numRows(i) >= BLOCK_MIN_ROWS;
            for (int r = 0; r < (block ? 1 : b.numRows(i)); r++) {
                for (int h = 0; h < heads; h++) {
                    taskSeq[numTasks] = i;
                    taskRow[numTasks++] = block ? -1 : b.rowStart(i) + r;
                }
            }
        }
        Task t = mine.task;
        t.set(k, b, layer, shard, source, q, out, localKeys, localValues, scale, bias);
        try {
            k.parallelFor(numTasks, t);
        } finally {
            t.set(null, null, 0, null, null, null, null, null, null, 0f, null);
        }
    }

    /** One attend call's arguments as a loop body over its tasks, kept by the calling thread and reused (no capture a step). */
    private static final class Task implements IntConsumer {
        private final Scratch owner;                                    // the caller's: its task lists
        private Kernels k;
        private StepBatch b;
        private int layer;
        private ShardLayout shard;
        private Source source;
        private float[] q;
        private float[] out;
        private float[] localKeys;
        private float[] localValues;
        private float scale;
        private Bias bias;

        Task(Scratch owner) {
            this.owner = owner;
        }

        void set(Kernels k, StepBatch b, int layer, ShardLayout shard, Source source, float[] q, float[] out,
                 float[] localKeys, float[] localValues, float scale, Bias bias) {
            this.k = k;
            this.b = b;
            this.layer = layer;
            this.shard = shard;
            this.source = source;
            this.q = q;
            this.out = out;
            this.localKeys = localKeys;
            this.localValues = localValues;
            this.scale = scale;
            this.bias = bias;
        }

        @Override
        public void accept(int task) {
            int seq = owner.taskSeq[task];
            int hl = task % shard.numLocalHeads();                      // tasks come in groups of all heads
            Scratch own = SCRATCH.get();                                // the thread's that runs the task
            KeyView kv = keysOf(own.keyView, b, seq, layer, shard, source, hl, localKeys, localValues);
            if (owner.taskRow[task] < 0) {
                attendBlock(k, b, seq, hl, shard, source, kv, q, out, scale, bias);
                return;
            }
            int row = owner.taskRow[task];
            int pos = b.startPos(seq) + row - b.rowStart(seq);
            int n = numKeys(b, seq, source, pos);
            int hd = shard.headDim();
            int li = shard.localInner();
            float[] scores = own.scores = grow(own.scores, n);
            float[] biasRow = null;
            if (bias != null) {
                biasRow = own.bias = grow(own.bias, n);
                bias.fill(biasRow, pos, n, hl);
            }
            k.attention(out, row * li + hl * hd, q, row * li + hl * hd, kv.keys(), kv.values(), kv.offset(), kv.stride(),
                    n, hd, scale, biasRow, 0, scores);
        }
    }

    /**
     * All rows of one sequence for one head as matrix products: scores (nq, nk) = Q (nq, hd) @ K (nk, hd)^T, masked,
     * biased and soft-maxed per row, then out (nq, hd) = P (nq, nk) @ V (nk, hd). The same arithmetic as the per-row
     * kernel, at matmul speed.
     */
    private static void attendBlock(Kernels k, StepBatch b, int seq, int hl, ShardLayout shard, Source source,
                                    KeyView kv, float[] q, float[] out, float scale, Bias bias) {
        int hd = shard.headDim();
        int li = shard.localInner();
        int nq = b.numRows(seq);
        int first = b.startPos(seq);
        int nk = numKeys(b, seq, source, first + nq - 1);
        float[] qb = new float[nq * hd];                               // (nq, hd)
        for (int r = 0; r < nq; r++) System.arraycopy(q, (b.rowStart(seq) + r) * li + hl * hd, qb, r * hd, hd);
        float[] kb = new float[nk * hd];                               // (nk, hd)
        float[] vt = new float[hd * nk];                               // (hd, nk): V transposed
        for (int t = 0; t < nk; t++) {
            int at = kv.offset() + t * kv.stride();
            System.arraycopy(kv.keys(), at, kb, t * hd, hd);
            for (int e = 0; e < hd; e++) vt[e * nk + t] = kv.values()[at + e];
        }
        float[] scores = new float[nq * nk];                           // (nq, nk)
        k.linear(scores, qb, k.prepare(kb, nk, hd), null, nq);
        float[] biasRow = bias == null ? null : new float[nk];
        for (int r = 0; r < nq; r++) {
            int pos = first + r;
            int visible = numKeys(b, seq, source, pos);
            int off = r * nk;
            if (bias != null) bias.fill(biasRow, pos, visible, hl);
            for (int t = 0; t < visible; t++) {
                scores[off + t] = scale * scores[off + t] + (bias == null ? 0f : biasRow[t]);
            }
            k.softmax(scores, off, visible);
            for (int t = visible; t < nk; t++) scores[off + t] = 0f;
        }
        float[] ob = new float[nq * hd];                               // (nq, hd)
        k.linear(ob, scores, k.prepare(vt, hd, nk), null, nq);
        for (int r = 0; r < nq; r++) System.arraycopy(ob, r * hd, out, (b.rowStart(seq) + r) * li + hl * hd, hd);
    }

    /**
     * Copies k and v (numTokens, localKvInner) into each sequence's self-attention cache of this layer
     * (maxPositions, kvDim), at each row's position and this shard's key/value head columns.
     */
    public static void writeSelfCache(StepBatch b, ShardLayout shard, int layer, float[] k, float[] v) {
        int li = shard.localKvInner();
        int inner = shard.kvDim();
        for (int i = 0; i < b.numSequences(); i++) {
            SequenceState s = b.state(i);
            for (int r = 0; r < b.numRows(i); r++) {
                int src = (b.rowStart(i) + r) * li;
                int dst = (b.startPos(i) + r) * inner + shard.kvInnerStart();
                System.arraycopy(k, src, s.selfKeys[layer], dst, li);
                System.arraycopy(v, src, s.selfValues[layer], dst, li);
            }
        }
    }

    /** out[r] += bias for every row r of out (rows, dim). */
    public static void addBias(float[] out, float[] bias, int rows, int dim) {
        if (bias == null) return;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < dim; i++) out[r * dim + i] += bias[i];
        }
    }
}
