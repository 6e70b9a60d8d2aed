package dev.exegpt.runtime.model;

import dev.exegpt.runtime.backend.Ops;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Synthetic steps for measuring one layer (XProfiler): a batch of fresh sequence states shaped like an encode step
 * (batch sequences of seqLength tokens) or a decode step (batch sequences, one token each, seqLength positions
 * already cached; an encoder-decoder also gets an encoder output of seqLength tokens), and the attention of such a step alone.
 * States hold one layer: the profiled layer is layer 0 of its stack.
 */
public final class LayerWorkload {
    private final ModelConfig c;
    private final Phase phase;
    private final StepBatch batch;

    /** A step of {@code batch} sequences at {@code seqLength} for the phase. */
    public LayerWorkload(ModelConfig c, Phase phase, int batch, int seqLength) {
        this.c = c;
        this.phase = phase;
        List<SequenceState> states = new ArrayList<>();
        int[] numRows = new int[batch];
        int[] startPos = new int[batch];
        boolean t5 = c.encoderDecoder();
        SplittableRandom rnd = new SplittableRandom(17);
        for (int i = 0; i < batch; i++) {
            SequenceState s;
            if (phase == Phase.ENCODE) {
                s = new SequenceState(1, c.kvDim(), t5 ? 1 : seqLength, 0, c.dModel());
                numRows[i] = seqLength;
            } else {
                s = new SequenceState(1, c.kvDim(), seqLength + 1, t5 ? seqLength : 0, c.dModel());
                fill(rnd, s.selfKeys);
                fill(rnd, s.selfValues);
                if (t5) {
                    fill(rnd, s.crossKeys);
                    fill(rnd, s.crossValues);
                }
                s.length = seqLength;
                numRows[i] = 1;
                startPos[i] = seqLength;
            }
            states.add(s);
        }
        this.batch = new StepBatch(states, numRows, startPos);
    }

    private LayerWorkload(ModelConfig c, Phase phase, StepBatch batch) {
        this.c = c;
        this.phase = phase;
        this.batch = batch;
    }

    /**
     * A T5 decoder step that is the first of each of its {@code batch} sequences, whose encoder outputs hold
     * {@code encoderLength} rows: besides the step itself, each decoder layer projects every sequence's encoder output
     * to its cross-attention keys and values, once per sequence (a cost that grows with the prompt, paid at decode).
     */
    public static LayerWorkload firstDecodeStep(ModelConfig c, int batch, int encoderLength) {
        if (!c.encoderDecoder()) throw new IllegalArgumentException("first decode step: encoder-decoder models only");
        SplittableRandom rnd = new SplittableRandom(23);
        List<SequenceState> states = new ArrayList<>();
        int[] ones = new int[batch];
        for (int i = 0; i < batch; i++) {
            SequenceState s = new SequenceState(1, c.kvDim(), 2, encoderLength, c.dModel());
            for (int j = 0; j < s.encoderOutput.length; j++) s.encoderOutput[j] = (float) (rnd.nextDouble() - 0.5);
            ones[i] = 1;
            states.add(s);
        }
        return new LayerWorkload(c, Phase.DECODE, new StepBatch(states, ones, new int[batch]));
    }

    private static void fill(SplittableRandom rnd, float[][] arrays) {
        for (float[] a : arrays) for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextDouble() - 0.5);
    }

    public StepBatch batch() {
        return batch;
    }

    /** Rows of activations the step carries. */
    public int numTokens() {
        return batch.numTokens();
    }

    /** Random activations (numTokens, dModel). */
    public float[] randomActivations(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[batch.numTokens() * c.dModel()];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        return x;
    }

    /**
     * Random inputs of {@link #attentionOnly} for one shard: q (numTokens, localInner), k and v (numTokens,
     * localKvInner), and a zeroed out (numTokens, localInner).
     */
    public float[][] randomAttentionInputs(ShardLayout shard) {
        int t = batch.numTokens();
        SplittableRandom rnd = new SplittableRandom(5);
        float[] q = new float[t * shard.localInner()];
        float[] kk = new float[t * shard.localKvInner()];
        float[] vv = new float[t * shard.localKvInner()];
        for (int i = 0; i < q.length; i++) q[i] = (float) (rnd.nextDouble() - 0.5);
        for (int i = 0; i < kk.length; i++) {
            kk[i] = (float) (rnd.nextDouble() - 0.5);
            vv[i] = (float) (rnd.nextDouble() - 0.5);
        }
        return new float[][] {q, kk, vv, new float[t * shard.localInner()]};
    }

    /**
     * The attention of one layer of this step on one shard: self-attention (encode: bidirectional within each
     * sequence; decode: over the cache) and, for a T5 decoder layer, cross-attention; over ops, on the step's rows
     * as the backend holds them ({@code on}: this workload's batch on the CPU, the same rows over device states on a
     * GPU), with q, k, v and out shaped as {@link #randomAttentionInputs} makes them.
     */
    public Runnable attentionOnly(ShardLayout shard, Ops ops, StepBatch on, Ops.Act q, Ops.Act k, Ops.Act v,
                                  Ops.Act out) {
        boolean t5 = c.encoderDecoder();
        PositionBias bias = t5 ? syntheticBias(shard) : null;
        float scale = t5 ? 1f : (float) (1.0 / Math.sqrt(c.headDim()));
        if (phase == Phase.ENCODE) {
            AttentionOps.Source src = t5 ? AttentionOps.Source.LOCAL : AttentionOps.Source.SELF_CACHE;
            return () -> {
                if (!t5) ops.writeSelfCache(on, shard, 0, k, v);
                ops.attend(on, 0, shard, src, q, out, k, v, scale, bias);
            };
        }
        return () -> {
            ops.attend(on, 0, shard, AttentionOps.Source.SELF_CACHE, q, out, null, null, scale, bias);
            if (t5) ops.attend(on, 0, shard, AttentionOps.Source.CROSS_CACHE, q, out, null, null, 1f, null);
        };
    }

    /** A relative bias of T5's shape (32 buckets, distances to 128) with made-up values: what it costs, not what it says. */
    private static PositionBias syntheticBias(ShardLayout shard) {
        int heads = shard.numLocalHeads();
        int maxDistance = 128;
        float[] table = new float[32 * heads];
        for (int i = 0; i < table.length; i++) table[i] = 0.01f * (i % 17);
        int[] bucketOfDistance = new int[2 * maxDistance + 1];
        for (int d = 0; d < bucketOfDistance.length; d++) bucketOfDistance[d] = Math.min(31, Math.abs(d - maxDistance) / 4);
        return new PositionBias(table, heads, bucketOfDistance, maxDistance);
    }
}
