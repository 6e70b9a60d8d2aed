package dev.exegpt.runtime.cuda;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.model.AttentionOps;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Norm;
import dev.exegpt.runtime.model.PositionBias;
import dev.exegpt.runtime.model.Rope;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.StepBatch;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The operations on one GPU, as kernel launches of {@code exegpt_kernels.cu} queued on one stream: weights are
 * uploaded once, small parameters (norms, biases, position tables) the first time they are met, activations come
 * from a step arena ({@link StepArena}), and sequences' states live in one device pool carved by {@link KvPool}
 * ({@link StateLayout} gives the offsets within a state). A step's per-row metadata (token ids, positions, cache
 * offsets, {@link StepMeta}) goes up in one copy; the host waits once, for the next tokens ({@link #argmax}). The
 * family's forward is the same code as on the CPU; only this class knows where the tensors are. TP degree 1.
 *
 * <p>Not thread-safe: the engine's thread drives it (and binds the context, {@link #bind}).
 */
public final class CudaOps implements Ops {
    private final ModelConfig c;
    private final Gpu dev;
    private final StepArena arena;
    private final Map<Object, Long> uploaded = new IdentityHashMap<>();     // host parameter array -> device address
    private final Map<StepBatch, StepMeta> metas = new IdentityHashMap<>();
    private long[] argmaxIds = new long[0];                                // the step's token ids, copied out
    private KvPool pool;
    private long poolMemory;
    private Object stepStart;                 // event at the start of the step in progress
    private Object lastStart;                 // events around the last finished step, until read
    private Object lastEnd;
    private float lastStepMs = Float.NaN;

    /** A weight matrix on the device, (rows, cols) row-major as in the checkpoint. */
    record DevWeight(long address, int rows, int cols) implements Weight {
        @Override
        public long numBytes() {
            return 4L * rows * cols;
        }
    }

    /** Activations on the device: floats from address. */
    record DevAct(long address, long floats) implements Act {}

    /** On GPU {@code deviceIndex}, for a model of config c (its state shapes). */
    public static CudaOps open(ModelConfig c, int deviceIndex) {
        return new CudaOps(c, new CudaDevice(deviceIndex));
    }

    /** On the given device (tests: a fake whose memory is host arrays). */
    CudaOps(ModelConfig c, Gpu gpu) {
        this.c = c;
        this.dev = gpu;
        this.arena = new StepArena(gpu);
    }

    /**
     * Reserves the state pool once the weights are up: poolBytes, clamped to 90% of the memory left (scratch needs
     * the rest).
     */
    public void reservePool(long poolBytes) {
        long free = dev.memoryInfo()[0];
        long bytes = Math.min(poolBytes, (long) (free * 0.9) - (256L << 20));
        if (bytes < KvPool.GRANULE_BYTES) {
            throw new IllegalStateException("GPU " + dev.index() + " (" + dev.name() + "): " + (free >> 20)
                    + " MiB free after the weights, too little for a state pool");
        }
        pool = new KvPool(bytes);
        poolMemory = dev.alloc(pool.capacityBytes());
    }

    /** The model whose states this pool holds. */
    public ModelConfig config() { return c; }

    public String deviceName() { return dev.index() + ": " + dev.name(); }

    /** Device bytes allocated so far (after loading: the weights). */
    public long allocatedBytes() { return dev.allocatedBytes(); }

    public KvPool pool() { return pool; }

    /** Binds the device's context to the calling thread. */
    public void bind() { dev.bind(); }

    /** GPU time of the last step (embedding to its last operation), from device events; waits for it. */
    public float lastStepMs() {
        if (lastEnd != null) {
            lastStepMs = dev.elapsedMs(lastStart, lastEnd);
            releaseLast();
        }
        return lastStepMs;
    }

    private void releaseLast() {
        if (lastEnd == null) return;
        dev.release(lastStart);
        dev.release(lastEnd);
        lastStart = null;
        lastEnd = null;
    }

    /** Ends a step: its metadata and activations are dead; the arena is reused by the next step. */
    @Override
    public void endStep() {
        if (stepStart != null) {                      // the events of an unread earlier step give way to this one
            releaseLast();
            lastStart = stepStart;
            lastEnd = dev.mark();
            stepStart = null;
        }
        metas.clear();
        arena.reset();
    }

    @Override
    public String name() {
        return "cuda " + deviceName();
    }

    // ----------------------------------------------------------------------------------------------------------------
    // memory

    @Override
    public Weight weight(float[] w, int rows, int cols) {
        return new DevWeight(upload(w), rows, cols);
    }

    @Override
    public Act act(long floats) {
        return new DevAct(arena.take(floats), floats);
    }

    @Override
    public Act buffer(long floats) {
        return new DevAct(dev.alloc(4 * floats), floats);
    }

    /** A {@link #buffer} holding a copy of host floats. */
    public Act copyOf(float[] host) {
        return new DevAct(upload(host), host.length);
    }

    /** dst[0, floats) = src[0, floats), on the stream. */
    public void copy(Act dst, Act src, long floats) {
        dev.copyAsync(addr(dst), addr(src), 4 * floats);
    }

    /** Waits for the work queued so far. */
    public void sync() {
        dev.sync();
    }

    /**
     * Queues body's launches between two events and returns the GPU time between them, in ms (waits for them): the
     * device's time for the work, without the host's launch and wait around it.
     */
    public double timedMs(Runnable body) {
        Object from = dev.mark();
        body.run();
        Object to = dev.mark();
        float ms = dev.elapsedMs(from, to);
        dev.release(from);
        dev.release(to);
        return ms;
    }

    @Override
    public void free(Act buffer) {
        dev.sync();
        dev.free(addr(buffer));
    }

    private long upload(float[] a) {
        long p = dev.alloc(4L * a.length);
        dev.copyIn(p, a, 0, a.length);
        return p;
    }

    @Override
    public void resident(float[]... params) {
        for (float[] p : params) param(p);
    }

    @Override
    public void resident(PositionBias bias) {
        param(bias.table());
        param(bias.bucketOfDistance());
    }

    /** The device copy of a host parameter array, uploaded the first time it is met. */
    private long param(float[] a) {
        if (a == null) return 0L;
        Long p = uploaded.get(a);
        if (p == null) {
            p = upload(a);
            uploaded.put(a, p);
        }
        return p;
    }

    private long param(int[] a) {
        Long p = uploaded.get(a);
        if (p == null) {
            p = dev.alloc(4L * a.length);
            dev.copyIn(p, a, a.length);
            uploaded.put(a, p);
        }
        return p;
    }

    private static long addr(Act a) {
        return ((DevAct) a).address();
    }

    private static DevWeight w(Weight w) {
        return (DevWeight) w;
    }

    private StepMeta meta(StepBatch b) {
        StepMeta m = metas.get(b);
        if (m == null) {
            m = StepMeta.of(b, c, null, 0);
            m.upload(dev, arena);
            metas.put(b, m);
        }
        return m;
    }

    // ----------------------------------------------------------------------------------------------------------------
    // arithmetic

    private void matmul(long out, long a, DevWeight wt, long bias, int m, boolean accumulate) {
        int n = wt.rows();
        int k = wt.cols();
        dev.launch(LaunchGeometry.matmulKernel(m, n), LaunchGeometry.matmulF32(m, n), out, a, wt.address(), bias, m, n,
                k, k, accumulate ? 1 : 0);
    }

    @Override
    public void linear(Act out, Act a, Weight wt, float[] bias, int m) {
        matmul(addr(out), addr(a), w(wt), param(bias), m, false);
    }

    @Override
    public void residual(Act x, Act a, Weight wt, float[] bias, int m) {
        matmul(addr(x), addr(a), w(wt), param(bias), m, true);          // one GPU: no partial sums to join
    }

    @Override
    public void norm(Act out, Act x, Norm n, int rows) {
        if (n.bias() == null) {
            dev.launch("rms_norm", LaunchGeometry.rows(rows), addr(out), addr(x), param(n.weight()), rows, n.dim(),
                    n.eps(), 1f);
        } else {
            dev.launch("layer_norm", LaunchGeometry.rows(rows), addr(out), addr(x), param(n.weight()),
                    param(n.bias()), rows, n.dim(), n.eps());
        }
    }

    @Override
    public void scale(Act x, float s, long len) {
        dev.launch("scale", LaunchGeometry.elementwise(len), addr(x), s, len);
    }

    @Override
    public void apply(Fn fn, Act x, long len) {
        String kernel = switch (fn) {
            case RELU -> "relu";
            case GELU -> "gelu";
            case SILU -> "silu";
        };
        dev.launch(kernel, LaunchGeometry.elementwise(len), addr(x), len);
    }

    @Override
    public void gated(Fn fn, Act x, Act gate, long len) {
        if (fn == Fn.RELU) {                          // no family gates a ReLU: two launches
            apply(fn, x, len);
            dev.launch("mul", LaunchGeometry.elementwise(len), addr(x), addr(gate), len);
            return;
        }
        dev.launch(fn == Fn.GELU ? "gelu_mul" : "silu_mul", LaunchGeometry.elementwise(len), addr(x), addr(gate), len);
    }

    @Override
    public void rope(Act x, StepBatch b, int numHeads, Rope rope) {
        StepMeta m = meta(b);
        dev.launch("rope", LaunchGeometry.rows(m.rows()), addr(x), m.at(StepMeta.QPOS), param(rope.invFreq()), m.rows(),
                numHeads, rope.headDim());
    }

    // ----------------------------------------------------------------------------------------------------------------
    // attention and the states in the pool

    private StateLayout layoutOf(SequenceState s) {
        return StateLayout.of(c, s.maxPositions, s.encoderLength);
    }

    @Override
    public void writeSelfCache(StepBatch b, ShardLayout shard, int layer, Act k, Act v) {
        StepMeta m = meta(b);
        dev.launch("write_kv", LaunchGeometry.rows(m.rows()), poolMemory, addr(k), addr(v), m.at(StepMeta.SELF_K),
                m.at(StepMeta.SELF_V), m.at(StepMeta.SELF_STRIDE), m.at(StepMeta.QPOS), layer, m.rows(),
                shard.kvDim());
    }

    @Override
    public void fillCrossCache(StepBatch b, ShardLayout shard, int layer, Weight wk, Weight wv) {
        for (int i = 0; i < b.numSequences(); i++) {
            if (b.startPos(i) != 0) continue;
            SequenceState st = b.state(i);
            StateLayout s = layoutOf(st);
            long base = poolMemory + st.poolOffsetBytes;
            long enc = base + 4 * s.encoderOutput();
            matmul(base + 4 * s.crossKeys(layer), enc, w(wk), 0L, s.encoderLength(), false);
            matmul(base + 4 * s.crossValues(layer), enc, w(wv), 0L, s.encoderLength(), false);
        }
    }

    @Override
    public void attend(StepBatch b, int layer, ShardLayout shard, AttentionOps.Source source, Act q, Act out,
                       Act localK, Act localV, float scale, PositionBias bias) {
        StepMeta m = meta(b);
        long keys = poolMemory;
        long values = poolMemory;
        int kSection;
        int vSection;
        int strideSection;
        int numKeysSection;
        int maxKeys;
        switch (source) {
            case SELF_CACHE -> {
                kSection = StepMeta.SELF_K;
                vSection = StepMeta.SELF_V;
                strideSection = StepMeta.SELF_STRIDE;
                numKeysSection = StepMeta.SELF_KEYS;
                maxKeys = m.maxSelfKeys();
            }
            case CROSS_CACHE -> {
                kSection = StepMeta.CROSS_K;
                vSection = StepMeta.CROSS_V;
                strideSection = StepMeta.CROSS_STRIDE;
                numKeysSection = StepMeta.CROSS_KEYS;
                maxKeys = m.maxCrossKeys();
            }
            default -> {
                keys = addr(localK);
                values = addr(localV);
                kSection = StepMeta.LOCAL_BASE;
                vSection = StepMeta.LOCAL_BASE;
                strideSection = -1;
                numKeysSection = StepMeta.LOCAL_KEYS;
                maxKeys = m.maxLocalKeys();
            }
        }
        LaunchGeometry g = LaunchGeometry.attention(m.rows(), shard.numLocalHeads(), shard.headDim(), maxKeys);
        long table = bias == null ? 0L : param(bias.table());
        long lut = bias == null ? 0L : param(bias.bucketOfDistance());
        dev.launch("attention", g, addr(out), addr(q), keys, values, m.at(kSection), m.at(vSection),
                strideSection < 0 ? 0L : m.at(strideSection), m.at(numKeysSection), m.at(StepMeta.QPOS), layer,
                m.rows(), shard.numLocalHeads(), shard.numLocalKvHeads(), shard.headDim(), shard.kvDim(), scale,
                table, lut, bias == null ? 0 : bias.maxDistance());
    }

    // ----------------------------------------------------------------------------------------------------------------
    // embedding and head

    @Override
    public Act embed(StepBatch b, int[] tokens, float[] table, float[] positions, int positionOffset, int dim) {
        dev.bind();                                                       // the engine thread may not be the opener
        if (stepStart == null) stepStart = dev.mark();
        StepMeta m = StepMeta.of(b, c, tokens, positionOffset);
        m.upload(dev, arena);
        metas.put(b, m);
        Act x = act((long) m.rows() * dim);
        dev.launch("embedding", LaunchGeometry.rows(m.rows()), addr(x), param(table), m.at(StepMeta.IDS),
                param(positions), m.at(StepMeta.POS_IDS), m.rows(), dim);
        return x;
    }

    @Override
    public void storeEncoderOutput(StepBatch b, Act h, int dim) {
        for (int i = 0; i < b.numSequences(); i++) {
            SequenceState st = b.state(i);
            long dst = poolMemory + st.poolOffsetBytes + 4 * layoutOf(st).encoderOutput();
            dev.copyAsync(dst, addr(h) + 4L * b.rowStart(i) * dim, 4L * b.numRows(i) * dim);
        }
    }

    @Override
    public Act lastRows(StepBatch b, Act x, int dim) {
        if (b.numTokens() == b.numSequences()) return x;
        StepMeta m = meta(b);
        Act last = act((long) b.numSequences() * dim);
        dev.launch("gather_rows", LaunchGeometry.rows(b.numSequences()), addr(last), addr(x), m.at(StepMeta.LAST_ROW),
                b.numSequences(), dim);
        return last;
    }

    @Override
    public void argmax(Act logits, int rows, int vocab, float[][] keep, int[] tokens) {
        long next = arena.take(2L * rows);                                // longs
        dev.launch("argmax_rows", new LaunchGeometry(rows, 1, 1024, 0), next, addr(logits), rows, vocab);
        if (argmaxIds.length < rows) argmaxIds = new long[rows];
        long[] ids = argmaxIds;
        dev.copyOut(ids, next, rows);                                     // the step's one wait
        for (int i = 0; i < rows; i++) tokens[i] = (int) ids[i];
        if (keep != null) {
            for (int i = 0; i < rows; i++) {
                keep[i] = new float[vocab];
                dev.copyOut(keep[i], 0, addr(logits) + 4L * i * vocab, vocab);
            }
        }
    }

    // ----------------------------------------------------------------------------------------------------------------
    // states: the pool range of a sequence to and from the host form of SequenceState (WAA hand-off)

    /** A device state of this shape, or null when no free range of the pool is bytes large. */
    public SequenceState allocate(int maxPositions, int encoderLength, long bytes) {
        long offset = pool.allocate(bytes);
        if (offset < 0) return null;
        SequenceState s = new SequenceState(0, 0, maxPositions, encoderLength, 0);
        s.poolOffsetBytes = offset;
        return s;
    }

    public void free(SequenceState s) {
        if (s.poolOffsetBytes < 0) return;
        pool.free(s.poolOffsetBytes);
        s.poolOffsetBytes = -1;
    }

    /** A host state with full arrays of s's shape and length. */
    public SequenceState hostForm(SequenceState s) {
        SequenceState host = new SequenceState(c.numDecoderLayers(), c.kvDim(), s.maxPositions, s.encoderLength,
                c.dModel());
        host.length = s.length;
        return host;
    }

    /** Copies a sequence's state (its cached length, and the encoder output and cross cache) into host arrays. */
    public void download(SequenceState st, SequenceState host) {
        dev.bind();
        StateLayout s = layoutOf(st);
        long base = poolMemory + st.poolOffsetBytes;
        int kv = c.kvDim();
        if (s.encoderLength() > 0) {
            dev.copyOut(host.encoderOutput, 0, base + 4 * s.encoderOutput(), s.encoderLength() * c.dModel());
            if (host.length > 0) {
                for (int l = 0; l < s.numLayers(); l++) {
                    dev.copyOut(host.crossKeys[l], 0, base + 4 * s.crossKeys(l), s.encoderLength() * kv);
                    dev.copyOut(host.crossValues[l], 0, base + 4 * s.crossValues(l), s.encoderLength() * kv);
                }
            }
        }
        for (int l = 0; l < s.numLayers(); l++) {
            dev.copyOut(host.selfKeys[l], 0, base + 4 * s.selfKeys(l), host.length * kv);
            dev.copyOut(host.selfValues[l], 0, base + 4 * s.selfValues(l), host.length * kv);
        }
    }

    /** The reverse of {@link #download}: host arrays into the sequence's pool range. */
    public void upload(SequenceState host, SequenceState st) {
        dev.bind();
        StateLayout s = layoutOf(st);
        long base = poolMemory + st.poolOffsetBytes;
        int kv = c.kvDim();
        dev.sync();
        if (s.encoderLength() > 0) {
            dev.copyIn(base + 4 * s.encoderOutput(), host.encoderOutput, 0, s.encoderLength() * c.dModel());
            if (host.length > 0) {
                for (int l = 0; l < s.numLayers(); l++) {
                    dev.copyIn(base + 4 * s.crossKeys(l), host.crossKeys[l], 0, s.encoderLength() * kv);
                    dev.copyIn(base + 4 * s.crossValues(l), host.crossValues[l], 0, s.encoderLength() * kv);
                }
            }
        }
        for (int l = 0; l < s.numLayers(); l++) {
            dev.copyIn(base + 4 * s.selfKeys(l), host.selfKeys[l], 0, host.length * kv);
            dev.copyIn(base + 4 * s.selfValues(l), host.selfValues[l], 0, host.length * kv);
        }
    }

    /** The device's memory: free and total bytes. */
    public long[] memoryInfo() { return dev.memoryInfo(); }

    /** The device (the profiler times hand-offs and kernels on it). */
    Gpu device() { return dev; }

    /** Device addresses of a state's parts, for the profiler's hand-off timing. */
    long poolAddress(SequenceState s) { return poolMemory + s.poolOffsetBytes; }

    @Override
    public void close() {
        dev.close();
    }
}
