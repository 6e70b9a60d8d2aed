package dev.exegpt.runtime.cuda;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.t5.T5RelativeBias;
import dev.exegpt.runtime.model.Weights;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A T5 or OPT model resident on one GPU: every weight uploaded once, sequence state (KV cache, T5 encoder output and
 * cross keys and values) in one device pool carved by {@link KvPool}, activations in scratch buffers that grow to the
 * largest step seen. A step uploads its per-row metadata (token ids, positions, cache offsets) in one copy, queues
 * the whole forward pass as kernel launches on the device's stream, and reads back only the next tokens (and, when
 * asked, the logits): the host waits once per step. The same arithmetic as the CPU layers (OptLayer, T5Attention,
 * T5FeedForward, ModelHead), in the same order, in f32. TP degree 1: the model runs on one GPU.
 *
 * <p>Not thread-safe: the engine's thread drives it (and binds the context with {@link #bind} when it is another
 * thread than the one that opened it).
 */
public final class CudaModel implements AutoCloseable {
    private final ModelConfig c;
    private final Gpu dev;
    private final KvPool pool;
    private final long poolMemory;                // device address of the state pool
    private final Map<String, Long> w = new HashMap<>();            // weight name -> device address
    private final Map<String, Long> scratch = new HashMap<>();
    private final Map<String, Long> scratchFloats = new HashMap<>();
    private final long weightBytes;
    private long encBiasTable, encBiasLut, decBiasTable, decBiasLut;
    private float lastStepMs;
    private boolean profiling;
    private StepTimes lastStepTimes;
    private final List<Object> attentionMarks = new ArrayList<>();
    private Object layersStart, layersEnd;

    /**
     * GPU time of the parts of a step, from CUDA events (profiling only): the layers, the attention kernels within
     * them (summed), and the rest (embedding before the layers; final norm, LM head and argmax after).
     */
    public record StepTimes(float totalMs, float layersMs, float attentionMs, float headMs) {}

    /** One sequence's part of a step: its state range in the pool, the tokens it feeds, and their first position. */
    public record Row(long poolOffsetBytes, StateLayout layout, int[] tokens, int startPos) {}

    /** The result of a step: the greedy next token per sequence, and its logits when asked for. */
    public record Next(int[] tokens, float[][] logits) {}

    /**
     * Uploads the model to GPU {@code deviceIndex} and reserves a state pool of {@code poolBytes}, clamped to 90% of
     * the memory left after the weights (scratch needs the rest).
     */
    public CudaModel(ModelConfig c, Weights weights, int deviceIndex, long poolBytes) {
        this(c, weights, new CudaDevice(deviceIndex), poolBytes);
    }

    /** On the given GPU (tests: an emulation of the kernels). */
    CudaModel(ModelConfig c, Weights weights, Gpu gpu, long poolBytes) {
        this.c = c;
        this.dev = gpu;
        try {
            uploadWeights(weights);
            this.weightBytes = dev.allocatedBytes();
            long free = dev.memoryInfo()[0];
            long bytes = Math.min(poolBytes, (long) (free * 0.9) - (256L << 20));
            if (bytes < KvPool.GRANULE_BYTES) {
                throw new IllegalStateException("GPU " + dev.index() + " (" + dev.name() + "): " + (free >> 20)
                        + " MiB free after the weights, too little for a state pool");
            }
            this.pool = new KvPool(bytes);
            this.poolMemory = dev.alloc(pool.capacityBytes());
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    public String deviceName() { return dev.index() + ": " + dev.name(); }

    public long weightBytes() { return weightBytes; }

    public KvPool pool() { return pool; }

    /** GPU time of the last encode or decode step, from CUDA events. */
    public float lastStepMs() { return lastStepMs; }

    /** Records events around the layers and every attention kernel of the next steps (XProfiler on CUDA). */
    void setProfiling(boolean on) { profiling = on; }

    /** The breakdown of the last step while profiling; null otherwise. */
    StepTimes lastStepTimes() { return lastStepTimes; }

    /** Binds the device's context to the calling thread. */
    public void bind() { dev.bind(); }

    // ----------------------------------------------------------------------------------------------------------------
    // weights

    private void put(String key, float[] data) {
        w.put(key, upload(data));
    }

    private long upload(float[] a) {
        long p = dev.alloc(4L * a.length);
        dev.copyIn(p, a, 0, a.length);
        return p;
    }

    private long upload(int[] a) {
        long p = dev.alloc(4L * a.length);
        dev.copyIn(p, a, a.length);
        return p;
    }

    private void uploadWeights(Weights weights) {
        int d = c.dModel();
        int v = c.vocabSize();
        int inner = c.innerDim();
        int ffn = c.ffnDim();
        if (c.architecture() == Architecture.OPT) {
            String p = "model.decoder.";
            put("embed", weights.get(p + "embed_tokens.weight", v, d).data());
            put("positions", weights.get(p + "embed_positions.weight", c.maxPositions() + ModelConfig.OPT_POSITION_OFFSET, d).data());
            put("final.w", weights.get(p + "final_layer_norm.weight", d).data());
            put("final.b", weights.get(p + "final_layer_norm.bias", d).data());
            if (c.tieWordEmbeddings()) w.put("lm_head", w.get("embed"));
            else put("lm_head", weights.get("lm_head.weight", v, d).data());
            for (int l = 0; l < c.numDecoderLayers(); l++) {
                String q = p + "layers." + l + ".";
                String k = "L" + l + ".";
                put(k + "ln1.w", weights.get(q + "self_attn_layer_norm.weight", d).data());
                put(k + "ln1.b", weights.get(q + "self_attn_layer_norm.bias", d).data());
                for (String n : new String[] {"q", "k", "v"}) {
                    put(k + n, weights.get(q + "self_attn." + n + "_proj.weight", inner, d).data());
                    put(k + n + ".b", weights.get(q + "self_attn." + n + "_proj.bias", inner).data());
                }
                put(k + "o", weights.get(q + "self_attn.out_proj.weight", d, inner).data());
                put(k + "o.b", weights.get(q + "self_attn.out_proj.bias", d).data());
                put(k + "ln2.w", weights.get(q + "final_layer_norm.weight", d).data());
                put(k + "ln2.b", weights.get(q + "final_layer_norm.bias", d).data());
                put(k + "fc1", weights.get(q + "fc1.weight", ffn, d).data());
                put(k + "fc1.b", weights.get(q + "fc1.bias", ffn).data());
                put(k + "fc2", weights.get(q + "fc2.weight", d, ffn).data());
                put(k + "fc2.b", weights.get(q + "fc2.bias", d).data());
            }
            return;
        }
        put("embed", weights.get("shared.weight", v, d).data());
        put("encoder_norm", weights.get("encoder.final_layer_norm.weight", d).data());
        put("final.w", weights.get("decoder.final_layer_norm.weight", d).data());
        if (c.tieWordEmbeddings()) w.put("lm_head", w.get("embed"));
        else put("lm_head", weights.get("lm_head.weight", v, d).data());
        for (String stack : new String[] {"encoder", "decoder"}) {
            boolean encoder = stack.equals("encoder");
            int layers = encoder ? c.numEncoderLayers() : c.numDecoderLayers();
            for (int l = 0; l < layers; l++) {
                String p = stack + ".block." + l + ".";
                String k = (encoder ? "E" : "D") + l + ".";
                int numAttention = encoder ? 1 : 2;
                for (int s = 0; s < numAttention; s++) {
                    String a = p + "layer." + s + "." + (s == 1 ? "EncDecAttention." : "SelfAttention.");
                    String key = k + (s == 1 ? "cross." : "self.");
                    put(key + "norm", weights.get(p + "layer." + s + ".layer_norm.weight", d).data());
                    for (String n : new String[] {"q", "k", "v"}) put(key + n, weights.get(a + n + ".weight", inner, d).data());
                    put(key + "o", weights.get(a + "o.weight", d, inner).data());
                }
                String f = p + "layer." + numAttention + ".";
                put(k + "ff.norm", weights.get(f + "layer_norm.weight", d).data());
                if (c.gatedGelu()) {
                    put(k + "ff.wi", weights.get(f + "DenseReluDense.wi_0.weight", ffn, d).data());
                    put(k + "ff.gate", weights.get(f + "DenseReluDense.wi_1.weight", ffn, d).data());
                } else {
                    put(k + "ff.wi", weights.get(f + "DenseReluDense.wi.weight", ffn, d).data());
                }
                put(k + "ff.wo", weights.get(f + "DenseReluDense.wo.weight", d, ffn).data());
            }
            String name = stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight";
            long table = upload(weights.get(name, c.numBuckets(), c.numHeads()).data());
            int[] lut = new int[2 * c.maxDistance() + 1];
            for (int r = -c.maxDistance(); r <= c.maxDistance(); r++) {
                lut[r + c.maxDistance()] = T5RelativeBias.bucket(r, encoder, c.numBuckets(), c.maxDistance());
            }
            if (encoder) {
                encBiasTable = table;
                encBiasLut = upload(lut);
            } else {
                decBiasTable = table;
                decBiasLut = upload(lut);
            }
        }
    }

    private long wt(String key) {
        Long p = w.get(key);
        if (p == null) throw new IllegalStateException("weight " + key + " was not uploaded");
        return p;
    }

    // ----------------------------------------------------------------------------------------------------------------
    // scratch and metadata

    /** A scratch buffer of at least floats floats (grown, never shrunk; contents not kept across growth). */
    private long buf(String name, long floats) {
        Long have = scratchFloats.get(name);
        if (have == null || have < floats) {
            Long old = scratch.get(name);
            if (old != null) {
                dev.sync();
                dev.free(old);
            }
            long n = Math.max(floats, have == null ? 0 : have * 3 / 2);
            scratch.put(name, dev.alloc(4 * n));
            scratchFloats.put(name, n);
        }
        return scratch.get(name);
    }

    /** Per-row metadata of one step, uploaded in one copy; {@link #at} gives a section's device address. */
    private final class Meta {
        final long[] host;
        final int rows;
        final long device;

        Meta(int rows, int numSections) {
            this.rows = rows;
            this.host = new long[rows * numSections];
            this.device = buf("meta", (long) 2 * host.length);               // longs are two floats
        }

        void set(int section, int row, long value) { host[section * rows + row] = value; }

        long at(int section) { return device + 8L * section * rows; }

        void upload() { dev.copyIn(device, host, host.length); }
    }

    // sections of the step metadata
    private static final int IDS = 0, POS_IDS = 1, QPOS = 2, SELF_K = 3, SELF_V = 4, SELF_STRIDE = 5, SELF_KEYS = 6,
            CROSS_K = 7, CROSS_V = 8, CROSS_STRIDE = 9, CROSS_KEYS = 10, LOCAL_BASE = 11, LOCAL_KEYS = 12,
            LAST_ROW = 13, NUM_SECTIONS = 14;

    // ----------------------------------------------------------------------------------------------------------------
    // kernels

    private void matmul(long out, long a, long weight, long bias, int m, int n, int k, boolean accumulate) {
        dev.launch(LaunchGeometry.matmulKernel(m, n), LaunchGeometry.matmulF32(m, n), out, a, weight, bias, m, n, k, k,
                accumulate ? 1 : 0);
    }

    private void rmsNorm(long out, long x, long weight, int rows, float scale) {
        dev.launch("rms_norm", LaunchGeometry.rows(rows), out, x, weight, rows, c.dModel(), c.normEps(), scale);
    }

    private void layerNorm(long out, long x, long weight, long bias, int rows) {
        dev.launch("layer_norm", LaunchGeometry.rows(rows), out, x, weight, bias, rows, c.dModel(), c.normEps());
    }

    private void attention(long out, long q, long keys, long values, Meta m, int kSection, int vSection,
                           int strideSection, int numKeysSection, int layer, int maxKeys, float scale,
                           long biasTable, long lut) {
        LaunchGeometry g = LaunchGeometry.attention(m.rows, c.numHeads(), c.headDim(), maxKeys);
        if (profiling) attentionMarks.add(dev.mark());
        dev.launch("attention", g, out, q, keys, values, m.at(kSection), m.at(vSection),
                strideSection < 0 ? 0L : m.at(strideSection), m.at(numKeysSection), m.at(QPOS), layer, m.rows,
                c.numHeads(), c.headDim(), c.innerDim(), scale, biasTable, lut, c.maxDistance());
        if (profiling) attentionMarks.add(dev.mark());
    }

    // ----------------------------------------------------------------------------------------------------------------
    // steps

    /**
     * Encoder pass (T5: the encoder output goes to each sequence's state) or prompt prefill (OPT: the prompt's keys
     * and values go to the cache, and the next token of each sequence is returned). Rows start at position 0.
     */
    public Next encode(List<Row> rows, boolean keepLogits) {
        return step(rows, true, keepLogits);
    }

    /** One decode iteration: each row feeds one token at its startPos (its cached length). */
    public Next decode(List<Row> rows, boolean keepLogits) {
        return step(rows, false, keepLogits);
    }

    private Next step(List<Row> rows, boolean encode, boolean keepLogits) {
        dev.bind();                                                       // the engine thread may not be the opener
        int d = c.dModel();
        int inner = c.innerDim();
        int ffn = c.ffnDim();
        int numSeqs = rows.size();
        int t = 0;
        for (Row r : rows) t += r.tokens().length;
        Meta m = new Meta(t, NUM_SECTIONS);
        int at = 0;
        int maxSelf = 1;
        int maxLocal = 1;
        int maxCross = 1;
        for (int i = 0; i < numSeqs; i++) {
            Row r = rows.get(i);
            StateLayout s = r.layout();
            long base = r.poolOffsetBytes() / 4;
            int n = r.tokens().length;
            for (int j = 0; j < n; j++) {
                int row = at + j;
                int pos = r.startPos() + j;
                m.set(IDS, row, r.tokens()[j]);
                m.set(POS_IDS, row, pos + ModelConfig.OPT_POSITION_OFFSET);
                m.set(QPOS, row, pos);
                m.set(SELF_K, row, base + s.selfKeys(0));
                m.set(SELF_V, row, base + s.selfValues(0));
                m.set(SELF_STRIDE, row, s.selfLayerStride());
                m.set(SELF_KEYS, row, pos + 1);
                m.set(CROSS_K, row, base + s.crossKeys(0));
                m.set(CROSS_V, row, base + s.crossValues(0));
                m.set(CROSS_STRIDE, row, s.crossLayerStride());
                m.set(CROSS_KEYS, row, s.encoderLength());
                m.set(LOCAL_BASE, row, (long) at * inner);
                m.set(LOCAL_KEYS, row, n);
                maxSelf = Math.max(maxSelf, pos + 1);
                maxCross = Math.max(maxCross, s.encoderLength());
            }
            maxLocal = Math.max(maxLocal, n);
            m.set(LAST_ROW, i, at + n - 1);
            at += n;
        }
        m.upload();
        long pool = poolMemory;
        long x = buf("x", (long) t * d);
        long h = buf("h", (long) t * d);
        long q = buf("q", (long) t * inner);
        long k = buf("k", (long) t * inner);
        long v = buf("v", (long) t * inner);
        long attn = buf("attn", (long) t * inner);
        long f = buf("f", (long) t * ffn);
        long gate = c.gatedGelu() ? buf("gate", (long) t * ffn) : 0L;
        Object start = dev.mark();
        boolean opt = c.architecture() == Architecture.OPT;
        dev.launch("embedding", LaunchGeometry.rows(t), x, wt("embed"), m.at(IDS), opt ? wt("positions") : 0L,
                m.at(POS_IDS), t, d);
        if (profiling) layersStart = dev.mark();
        if (opt) {
            float scale = (float) (1.0 / Math.sqrt(c.headDim()));
            for (int l = 0; l < c.numDecoderLayers(); l++) {
                String p = "L" + l + ".";
                layerNorm(h, x, wt(p + "ln1.w"), wt(p + "ln1.b"), t);
                matmul(q, h, wt(p + "q"), wt(p + "q.b"), t, inner, d, false);
                matmul(k, h, wt(p + "k"), wt(p + "k.b"), t, inner, d, false);
                matmul(v, h, wt(p + "v"), wt(p + "v.b"), t, inner, d, false);
                dev.launch("write_kv", LaunchGeometry.rows(t), pool, k, v, m.at(SELF_K), m.at(SELF_V),
                        m.at(SELF_STRIDE), m.at(QPOS), l, t, inner);
                attention(attn, q, pool, pool, m, SELF_K, SELF_V, SELF_STRIDE, SELF_KEYS, l, maxSelf, scale, 0L, 0L);
                matmul(x, attn, wt(p + "o"), wt(p + "o.b"), t, d, inner, true);
                layerNorm(h, x, wt(p + "ln2.w"), wt(p + "ln2.b"), t);
                matmul(f, h, wt(p + "fc1"), wt(p + "fc1.b"), t, ffn, d, false);
                dev.launch("relu", LaunchGeometry.elementwise((long) t * ffn), f, (long) t * ffn);
                matmul(x, f, wt(p + "fc2"), wt(p + "fc2.b"), t, d, ffn, true);
            }
        } else if (encode) {
            for (int l = 0; l < c.numEncoderLayers(); l++) {
                String p = "E" + l + ".";
                rmsNorm(h, x, wt(p + "self.norm"), t, 1f);
                matmul(q, h, wt(p + "self.q"), 0L, t, inner, d, false);
                matmul(k, h, wt(p + "self.k"), 0L, t, inner, d, false);
                matmul(v, h, wt(p + "self.v"), 0L, t, inner, d, false);
                attention(attn, q, k, v, m, LOCAL_BASE, LOCAL_BASE, -1, LOCAL_KEYS, 0, maxLocal, 1f, encBiasTable, encBiasLut);
                matmul(x, attn, wt(p + "self.o"), 0L, t, d, inner, true);
                feedForward(p, x, h, f, gate, t);
            }
            if (profiling) layersEnd = dev.mark();
            rmsNorm(h, x, wt("encoder_norm"), t, 1f);
            int row = 0;
            for (Row r : rows) {
                long dst = r.poolOffsetBytes() / 4 + r.layout().encoderOutput();
                dev.copyAsync(poolMemory + 4 * dst, h + 4L * row * d, 4L * r.tokens().length * d);
                row += r.tokens().length;
            }
            lastStepMs = finish(start);
            if (profiling) collectTimes();
            return new Next(new int[0], null);
        } else {
            for (Row r : rows) {
                if (r.startPos() != 0) continue;
                long base = pool + r.poolOffsetBytes();
                StateLayout s = r.layout();
                long enc = base + 4 * s.encoderOutput();
                for (int l = 0; l < c.numDecoderLayers(); l++) {
                    String p = "D" + l + ".cross.";
                    matmul(base + 4 * s.crossKeys(l), enc, wt(p + "k"), 0L, s.encoderLength(), inner, d, false);
                    matmul(base + 4 * s.crossValues(l), enc, wt(p + "v"), 0L, s.encoderLength(), inner, d, false);
                }
            }
            for (int l = 0; l < c.numDecoderLayers(); l++) {
                String p = "D" + l + ".";
                rmsNorm(h, x, wt(p + "self.norm"), t, 1f);
                matmul(q, h, wt(p + "self.q"), 0L, t, inner, d, false);
                matmul(k, h, wt(p + "self.k"), 0L, t, inner, d, false);
                matmul(v, h, wt(p + "self.v"), 0L, t, inner, d, false);
                dev.launch("write_kv", LaunchGeometry.rows(t), pool, k, v, m.at(SELF_K), m.at(SELF_V),
                        m.at(SELF_STRIDE), m.at(QPOS), l, t, inner);
                attention(attn, q, pool, pool, m, SELF_K, SELF_V, SELF_STRIDE, SELF_KEYS, l, maxSelf, 1f, decBiasTable, decBiasLut);
                matmul(x, attn, wt(p + "self.o"), 0L, t, d, inner, true);
                rmsNorm(h, x, wt(p + "cross.norm"), t, 1f);
                matmul(q, h, wt(p + "cross.q"), 0L, t, inner, d, false);
                attention(attn, q, pool, pool, m, CROSS_K, CROSS_V, CROSS_STRIDE, CROSS_KEYS, l, maxCross, 1f, 0L, 0L);
                matmul(x, attn, wt(p + "cross.o"), 0L, t, d, inner, true);
                feedForward(p, x, h, f, gate, t);
            }
        }
        // the head: last row of each sequence (a prefill has many), final norm, LM head, greedy choice
        if (profiling) layersEnd = dev.mark();
        long last = x;
        if (t != numSeqs) {
            last = buf("last", (long) numSeqs * d);
            dev.launch("gather_rows", LaunchGeometry.rows(numSeqs), last, x, m.at(LAST_ROW), numSeqs, d);
        }
        long hn = buf("head", (long) numSeqs * d);
        if (opt) layerNorm(hn, last, wt("final.w"), wt("final.b"), numSeqs);
        else rmsNorm(hn, last, wt("final.w"), numSeqs, c.tieWordEmbeddings() ? (float) Math.pow(d, -0.5) : 1f);
        int vocab = c.vocabSize();
        long logits = buf("logits", (long) numSeqs * vocab);
        matmul(logits, hn, wt("lm_head"), 0L, numSeqs, vocab, d, false);
        long next = buf("next", 2L * numSeqs);
        dev.launch("argmax_rows", new LaunchGeometry(numSeqs, 1, 1024, 0), next, logits, numSeqs, vocab);
        lastStepMs = finish(start);
        if (profiling) collectTimes();
        long[] ids = new long[numSeqs];
        dev.copyOut(ids, next, numSeqs);
        int[] tokens = new int[numSeqs];
        for (int i = 0; i < numSeqs; i++) tokens[i] = (int) ids[i];
        float[][] kept = null;
        if (keepLogits) {
            kept = new float[numSeqs][vocab];
            for (int i = 0; i < numSeqs; i++) dev.copyOut(kept[i], 0, logits + 4L * i * vocab, vocab);
        }
        return new Next(tokens, kept);
    }

    /** Records the end of a step, waits for it, and returns its GPU time since start. */
    private float finish(Object start) {
        Object end = dev.mark();
        float ms = dev.elapsedMs(start, end);
        dev.release(start);
        dev.release(end);
        return ms;
    }

    /** After a profiled step has completed: the breakdown from its events, which are then released. */
    private void collectTimes() {
        float layers = dev.elapsedMs(layersStart, layersEnd);
        float attention = 0;
        for (int i = 0; i + 1 < attentionMarks.size(); i += 2) {
            attention += dev.elapsedMs(attentionMarks.get(i), attentionMarks.get(i + 1));
        }
        lastStepTimes = new StepTimes(lastStepMs, layers, attention, lastStepMs - layers);
        for (Object e : attentionMarks) dev.release(e);
        attentionMarks.clear();
        dev.release(layersStart);
        dev.release(layersEnd);
    }

    /** T5's feed-forward sub-layer with its norm and residual: x += wo(act(wi(RMS(x)))). */
    private void feedForward(String p, long x, long h, long f, long gate, int t) {
        int d = c.dModel();
        int ffn = c.ffnDim();
        rmsNorm(h, x, wt(p + "ff.norm"), t, 1f);
        matmul(f, h, wt(p + "ff.wi"), 0L, t, ffn, d, false);
        long len = (long) t * ffn;
        if (c.gatedGelu()) {
            matmul(gate, h, wt(p + "ff.gate"), 0L, t, ffn, d, false);
            dev.launch("gelu_mul", LaunchGeometry.elementwise(len), f, gate, len);
        } else {
            dev.launch("relu", LaunchGeometry.elementwise(len), f, len);
        }
        matmul(x, f, wt(p + "ff.wo"), 0L, t, d, ffn, true);
    }

    // ----------------------------------------------------------------------------------------------------------------
    // state transfer (WAA): the pool range of a sequence to and from the host form of SequenceState

    /** Copies a sequence's state (its cached length, and T5's encoder output and cross cache) into host arrays. */
    public void download(long poolOffsetBytes, StateLayout s, SequenceState host) {
        dev.bind();
        long base = poolOffsetBytes / 4;
        int inner = c.innerDim();
        if (s.encoderLength() > 0) {
            dev.copyOut(host.encoderOutput, 0, poolMemory + 4 * (base + s.encoderOutput()), s.encoderLength() * c.dModel());
            if (host.length > 0) {
                for (int l = 0; l < s.numLayers(); l++) {
                    dev.copyOut(host.crossKeys[l], 0, poolMemory + 4 * (base + s.crossKeys(l)), s.encoderLength() * inner);
                    dev.copyOut(host.crossValues[l], 0, poolMemory + 4 * (base + s.crossValues(l)), s.encoderLength() * inner);
                }
            }
        }
        for (int l = 0; l < s.numLayers(); l++) {
            dev.copyOut(host.selfKeys[l], 0, poolMemory + 4 * (base + s.selfKeys(l)), host.length * inner);
            dev.copyOut(host.selfValues[l], 0, poolMemory + 4 * (base + s.selfValues(l)), host.length * inner);
        }
    }

    /** The reverse of {@link #download}: host arrays into the sequence's pool range. */
    public void upload(long poolOffsetBytes, StateLayout s, SequenceState host) {
        dev.bind();
        long base = poolOffsetBytes / 4;
        int inner = c.innerDim();
        dev.sync();
        if (s.encoderLength() > 0) {
            dev.copyIn(poolMemory + 4 * (base + s.encoderOutput()), host.encoderOutput, 0, s.encoderLength() * c.dModel());
            if (host.length > 0) {
                for (int l = 0; l < s.numLayers(); l++) {
                    dev.copyIn(poolMemory + 4 * (base + s.crossKeys(l)), host.crossKeys[l], 0, s.encoderLength() * inner);
                    dev.copyIn(poolMemory + 4 * (base + s.crossValues(l)), host.crossValues[l], 0, s.encoderLength() * inner);
                }
            }
        }
        for (int l = 0; l < s.numLayers(); l++) {
            dev.copyIn(poolMemory + 4 * (base + s.selfKeys(l)), host.selfKeys[l], 0, host.length * inner);
            dev.copyIn(poolMemory + 4 * (base + s.selfValues(l)), host.selfValues[l], 0, host.length * inner);
        }
    }

    /** Copies floats within the pool (float indexes) and waits: a stage-to-stage hand-off on one GPU (profiling). */
    void copyWithinPool(long dstFloat, long srcFloat, long floats) {
        dev.bind();
        dev.copyAsync(poolMemory + 4 * dstFloat, poolMemory + 4 * srcFloat, 4 * floats);
        dev.sync();
    }

    /** The device's memory: free and total bytes. */
    public long[] memoryInfo() { return dev.memoryInfo(); }

    /** The device the model runs on. */
    Gpu device() { return dev; }

    @Override
    public void close() {
        dev.close();
    }
}
