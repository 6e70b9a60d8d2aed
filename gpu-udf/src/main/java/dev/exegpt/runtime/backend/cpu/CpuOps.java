package dev.exegpt.runtime.backend.cpu;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.Matrix;
import dev.exegpt.runtime.model.AllReduce;
import dev.exegpt.runtime.model.AttentionOps;
import dev.exegpt.runtime.model.Norm;
import dev.exegpt.runtime.model.PositionBias;
import dev.exegpt.runtime.model.Rope;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.weights.DType;
import java.util.ArrayList;
import java.util.Arrays;

/**
 * The operations on the CPU: activations are Java arrays, weights are matrices the {@link Kernels} prepared, the key
 * and value caches are the arrays of each sequence's {@link SequenceState}. One instance per device thread (its own
 * kernels and threads); a tensor-parallel rank joins its partial sums with its group in {@link #residual}.
 */
public final class CpuOps implements Ops {
    /** Activations one step may take from the arena; a caller that never ends its steps gets plain arrays past it. */
    private static final int MAX_ARENA_IN_USE = 4096;
    /**
     * Bytes one step may hold in the arena. A step's arena activations live until the step ends, so a long prefill's
     * would all be alive at once (the profiler's calibration encodes 64 sequences of up to 1,024 tokens: gigabytes);
     * past this they are plain arrays the collector takes when the layer drops them. A base model's decode step at
     * batch 64 holds about 21 MB.
     */
    private static final long MAX_ARENA_BYTES = 64L << 20;

    private final Kernels k;
    private final AllReduce allReduce;
    private final int rank;
    // The step arena: the activations handed out since the last endStep, and the previous step's, free for this one by
    // exact length, so that a steady-state step (the shapes of the one before) allocates none (measured before it:
    // opt-base decode at batch 1 allocated 477 KB a step, at batch 8 3.8 MB, mostly activations). Only the previous
    // step's are kept: prefills change shape every step, and keeping free lists for many lengths held gigabytes of
    // prefill activations (the demo's profile fit ran out of a 6 GB heap).
    private final ArrayList<Arr> inUse = new ArrayList<>();
    private final ArrayList<Arr> free = new ArrayList<>();
    private long inUseBytes;
    // linears' arguments as the kernels take them, by number of products, reused call after call.
    private float[][][] linearsOut = new float[4][][];
    private Matrix[][] linearsW = new Matrix[4][];

    /** A device of a tensor-parallel group of allReduce.degree() ranks; owns k (closed with this). */
    public CpuOps(Kernels k, AllReduce allReduce, int rank) {
        this.k = k;
        this.allReduce = allReduce;
        this.rank = rank;
    }

    /** A single device. */
    public CpuOps(Kernels k) {
        this(k, AllReduce.NONE, 0);
    }

    /** Activations on the CPU: the array itself. */
    public record Arr(float[] a) implements Act {}

    private record CpuWeight(Matrix m) implements Weight {
        @Override
        public long numBytes() {
            return m.numBytes();
        }
    }

    /** The array as an activation handle (no copy). */
    public static Act wrap(float[] a) {
        return new Arr(a);
    }

    /** The array behind a CPU activation handle (no copy). */
    public static float[] array(Act x) {
        return ((Arr) x).a();
    }

    private static Matrix m(Weight w) {
        return ((CpuWeight) w).m();
    }

    public Kernels kernels() {
        return k;
    }

    @Override
    public String name() {
        return "cpu " + k.name();
    }

    @Override
    public Weight weight(float[] w, int rows, int cols) {
        return new CpuWeight(k.prepare(w, rows, cols));
    }

    @Override
    public Weight weight16(short[] bits, DType dtype, int rows, int cols) {
        return new CpuWeight(k.prepare16(bits, dtype, rows, cols));
    }

    /** From the step arena: an array of exactly floats floats, holding whatever an earlier step left in it. */
    @Override
    public Act act(long floats) {
        int n = Math.toIntExact(floats);
        if (inUse.size() >= MAX_ARENA_IN_USE || inUseBytes + 4L * n > MAX_ARENA_BYTES) return new Arr(new float[n]);
        Arr a = null;
        for (int i = free.size() - 1; i >= 0; i--) {
            if (free.get(i).a().length == n) {
                a = free.get(i);
                free.set(i, free.get(free.size() - 1));
                free.remove(free.size() - 1);
                break;
            }
        }
        if (a == null) a = new Arr(new float[n]);
        inUse.add(a);
        inUseBytes += 4L * n;
        return a;
    }

    /**
     * The step's activations become the next step's free ones; what the step did not reuse of the step before goes to
     * the collector. Called by the thread that took them.
     */
    @Override
    public void endStep() {
        free.clear();
        for (int i = 0; i < inUse.size(); i++) free.add(inUse.get(i));
        inUse.clear();
        inUseBytes = 0;
    }

    @Override
    public Act buffer(long floats) {
        return new Arr(new float[Math.toIntExact(floats)]);
    }

    @Override
    public void free(Act buffer) {}

    @Override
    public void linear(Act out, Act a, Weight w, float[] bias, int m) {
        k.linear(array(out), array(a), m(w), bias, m);
    }

    @Override
    public void linears(Act[] outs, Act a, Weight[] ws, float[][] biases, int m) {
        int n = ws.length;
        if (n >= linearsOut.length) {
            linearsOut = Arrays.copyOf(linearsOut, n + 1);
            linearsW = Arrays.copyOf(linearsW, n + 1);
        }
        if (linearsOut[n] == null) {
            linearsOut[n] = new float[n][];
            linearsW[n] = new Matrix[n];
        }
        float[][] o = linearsOut[n];
        Matrix[] w = linearsW[n];
        for (int i = 0; i < ws.length; i++) {
            o[i] = array(outs[i]);
            w[i] = m(ws[i]);
        }
        k.linears(o, array(a), w, biases, m);
    }

    @Override
    public void residual(Act x, Act a, Weight w, float[] bias, int m) {
        int d = m(w).rows();
        float[] o = array(act((long) m * d));                           // (m, d), partial under TP
        k.linear(o, array(a), m(w), null, m);
        allReduce.sum(rank, o, m * d);
        AttentionOps.addBias(o, bias, m, d);
        k.add(array(x), o, m * d);
    }

    @Override
    public void norm(Act out, Act x, Norm n, int rows) {
        int dim = n.weight().length;
        if (n.bias() == null) k.rmsNorm(array(out), array(x), n.weight(), rows, dim, n.eps());
        else k.layerNorm(array(out), array(x), n.weight(), n.bias(), rows, dim, n.eps());
    }

    @Override
    public void scale(Act x, float s, long len) {
        float[] a = array(x);
        for (int i = 0; i < len; i++) a[i] *= s;
    }

    @Override
    public void apply(Fn fn, Act x, long len) {
        float[] a = array(x);
        int n = Math.toIntExact(len);
        switch (fn) {
            case RELU -> k.relu(a, n);
            case GELU -> k.gelu(a, n);
            case SILU -> k.silu(a, n);
        }
    }

    @Override
    public void gated(Fn fn, Act x, Act gate, long len) {
        apply(fn, x, len);
        k.mul(array(x), array(gate), Math.toIntExact(len));
    }

    @Override
    public void rope(Act x, StepBatch b, int numHeads, Rope rope) {
        rope.apply(array(x), b, numHeads);
    }

    @Override
    public void writeSelfCache(StepBatch b, ShardLayout shard, int layer, Act kk, Act vv) {
        AttentionOps.writeSelfCache(b, shard, layer, array(kk), array(vv));
    }

    @Override
    public void fillCrossCache(StepBatch b, ShardLayout shard, int layer, Weight wk, Weight wv) {
        int li = shard.localKvInner();
        int inner = shard.kvDim();
        for (int i = 0; i < b.numSequences(); i++) {
            if (b.startPos(i) != 0) continue;
            SequenceState s = b.state(i);
            int n = s.encoderLength;
            float[] kk = new float[n * li];                             // (encoderLength, localKvInner)
            float[] vv = new float[n * li];
            k.linear(kk, s.encoderOutput, m(wk), null, n);
            k.linear(vv, s.encoderOutput, m(wv), null, n);
            for (int r = 0; r < n; r++) {
                System.arraycopy(kk, r * li, s.crossKeys[layer], r * inner + shard.kvInnerStart(), li);
                System.arraycopy(vv, r * li, s.crossValues[layer], r * inner + shard.kvInnerStart(), li);
            }
        }
    }

    @Override
    public void attend(StepBatch b, int layer, ShardLayout shard, AttentionOps.Source source, Act q, Act out,
                       Act localK, Act localV, float scale, PositionBias bias) {
        AttentionOps.attend(k, b, layer, shard, source, array(q), array(out), localK == null ? null : array(localK),
                localV == null ? null : array(localV), scale, bias);
    }

    @Override
    public Act embed(StepBatch b, int[] tokens, float[] table, float[] positions, int positionOffset, int d) {
        Act xa = act((long) b.numTokens() * d);
        float[] x = array(xa);
        k.embedding(x, table, tokens, d);
        if (positions != null) {
            for (int i = 0; i < b.numSequences(); i++) {
                for (int r = 0; r < b.numRows(i); r++) {
                    int row = b.rowStart(i) + r;
                    int pos = b.startPos(i) + r + positionOffset;
                    for (int j = 0; j < d; j++) x[row * d + j] += positions[pos * d + j];
                }
            }
        }
        return xa;
    }

    @Override
    public void storeEncoderOutput(StepBatch b, Act h, int d) {
        for (int i = 0; i < b.numSequences(); i++) {
            System.arraycopy(array(h), b.rowStart(i) * d, b.state(i).encoderOutput, 0, b.numRows(i) * d);
        }
    }

    @Override
    public Act lastRows(StepBatch b, Act x, int d) {
        if (b.numTokens() == b.numSequences()) return x;
        Act last = act((long) b.numSequences() * d);                   // (numSequences, d)
        for (int i = 0; i < b.numSequences(); i++) {
            System.arraycopy(array(x), (b.rowStart(i) + b.numRows(i) - 1) * d, array(last), i * d, d);
        }
        return last;
    }

    @Override
    public void argmax(Act logits, int rows, int vocab, float[][] keep, int[] next) {
        float[] a = array(logits);
        for (int r = 0; r < rows; r++) {
            next[r] = k.argmax(a, r * vocab, vocab);
            if (keep != null) keep[r] = Arrays.copyOfRange(a, r * vocab, (r + 1) * vocab);
        }
    }

    @Override
    public void close() {
        k.close();
    }
}
