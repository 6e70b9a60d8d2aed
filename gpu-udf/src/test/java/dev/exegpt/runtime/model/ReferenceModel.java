package dev.exegpt.runtime.model;

import dev.exegpt.runtime.model.t5.T5Options;
import dev.exegpt.runtime.model.llama.LlamaOptions;
import dev.exegpt.runtime.model.t5.T5RelativeBias;
import dev.exegpt.runtime.weights.Tensor;
import java.util.Map;

/**
 * A straightforward implementation of the three families for tests: raw checkpoint tensors, plain loops in double,
 * no cache, no batching, no sharding; every call recomputes the whole sequence, the way the Hugging Face modules
 * define the forward pass.
 */
public final class ReferenceModel {
    private final ModelConfig c;
    private final Map<String, Tensor> t;

    public ReferenceModel(ModelConfig c, Map<String, Tensor> tensors) {
        this.c = c;
        this.t = tensors;
    }

    private float[] w(String name) {
        Tensor x = t.get(name);
        if (x == null) throw new IllegalArgumentException("missing " + name);
        return x.data();
    }

    /** y (n, out) = x (n, in) @ W(out, in)^T + b. */
    private static double[] linear(double[] x, int n, float[] w, float[] b, int in, int out) {
        double[] y = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                double s = b == null ? 0 : b[j];
                for (int p = 0; p < in; p++) s += x[i * in + p] * w[j * in + p];
                y[i * out + j] = s;
            }
        }
        return y;
    }

    private static double[] layerNorm(double[] x, int n, int d, float[] w, float[] b, double eps) {
        double[] y = new double[n * d];
        for (int i = 0; i < n; i++) {
            double mean = 0;
            for (int j = 0; j < d; j++) mean += x[i * d + j];
            mean /= d;
            double var = 0;
            for (int j = 0; j < d; j++) var += (x[i * d + j] - mean) * (x[i * d + j] - mean);
            var /= d;
            for (int j = 0; j < d; j++) y[i * d + j] = (x[i * d + j] - mean) / Math.sqrt(var + eps) * w[j] + b[j];
        }
        return y;
    }

    private static double[] rmsNorm(double[] x, int n, int d, float[] w, double eps) {
        double[] y = new double[n * d];
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += x[i * d + j] * x[i * d + j];
            double inv = 1 / Math.sqrt(ss / d + eps);
            for (int j = 0; j < d; j++) y[i * d + j] = x[i * d + j] * inv * w[j];
        }
        return y;
    }

    /** Multi-head attention of q (nq, H*hd) over k, v (nk, H*hd); bias (H, nq, nk) may be null; causal masks k > q. */
    private double[] attention(double[] q, double[] k, double[] v, int nq, int nk, double scale, double[] bias,
                               boolean causal) {
        int heads = c.numHeads();
        int hd = c.headDim();
        int inner = heads * hd;
        double[] out = new double[nq * inner];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < nq; i++) {
                int visible = causal ? i + 1 : nk;
                double[] s = new double[visible];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                    double dot = 0;
                    for (int e = 0; e < hd; e++) dot += q[i * inner + h * hd + e] * k[j * inner + h * hd + e];
                    s[j] = dot * scale + (bias == null ? 0 : bias[(h * nq + i) * nk + j]);
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < visible; j++) sum += s[j] = Math.exp(s[j] - max);
                for (int e = 0; e < hd; e++) {
                    double acc = 0;
                    for (int j = 0; j < visible; j++) acc += s[j] / sum * v[j * inner + h * hd + e];
                    out[i * inner + h * hd + e] = acc;
                }
            }
        }
        return out;
    }

    private static void addInto(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    private static float[] toFloat(double[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) x[i];
        return y;
    }

    /** HF's repeat_kv: (n, kvHeads*hd) to (n, heads*hd), query head h reading key/value head h / (heads/kvHeads). */
    private double[] repeatKv(double[] x, int n) {
        int hd = c.headDim();
        int group = c.numHeads() / c.numKvHeads();
        double[] y = new double[n * c.innerDim()];
        for (int i = 0; i < n; i++) {
            for (int h = 0; h < c.numHeads(); h++) {
                System.arraycopy(x, i * c.kvDim() + h / group * hd, y, i * c.innerDim() + h * hd, hd);
            }
        }
        return y;
    }

    /** HF's apply_rotary_pos_emb with rotate_half, in double: pairs (e, e + hd/2) of each head at position i. */
    private void rope(double[] x, int n, int numHeads) {
        int hd = c.headDim();
        int half = hd / 2;
        for (int i = 0; i < n; i++) {
            for (int h = 0; h < numHeads; h++) {
                int off = i * numHeads * hd + h * hd;
                for (int e = 0; e < half; e++) {
                    double angle = i * Math.pow(LlamaOptions.of(c).ropeTheta(), -2.0 * e / hd);
                    double x1 = x[off + e];
                    double x2 = x[off + e + half];
                    x[off + e] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
                    x[off + e + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
                }
            }
        }
    }

    /** Llama: logits (n, vocab) for every position of tokens. */
    public float[] llamaLogits(int[] tokens) {
        int n = tokens.length;
        int d = c.dModel();
        double eps = c.normEps();
        float[] emb = w("model.embed_tokens.weight");
        double[] x = new double[n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i * d + j] = emb[tokens[i] * d + j];
        for (int l = 0; l < c.numDecoderLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[] h = rmsNorm(x, n, d, w(p + "input_layernorm.weight"), eps);
            double[] q = linear(h, n, w(p + "self_attn.q_proj.weight"), null, d, c.innerDim());
            double[] k = linear(h, n, w(p + "self_attn.k_proj.weight"), null, d, c.kvDim());
            double[] v = linear(h, n, w(p + "self_attn.v_proj.weight"), null, d, c.kvDim());
            rope(q, n, c.numHeads());
            rope(k, n, c.numKvHeads());
            double[] a = attention(q, repeatKv(k, n), repeatKv(v, n), n, n, 1 / Math.sqrt(c.headDim()), null, true);
            addInto(x, linear(a, n, w(p + "self_attn.o_proj.weight"), null, c.innerDim(), d));
            h = rmsNorm(x, n, d, w(p + "post_attention_layernorm.weight"), eps);
            double[] g = linear(h, n, w(p + "mlp.gate_proj.weight"), null, d, c.ffnDim());
            double[] u = linear(h, n, w(p + "mlp.up_proj.weight"), null, d, c.ffnDim());
            for (int i = 0; i < g.length; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
            addInto(x, linear(g, n, w(p + "mlp.down_proj.weight"), null, c.ffnDim(), d));
        }
        double[] h = rmsNorm(x, n, d, w("model.norm.weight"), eps);
        float[] head = c.tieWordEmbeddings() ? emb : w("lm_head.weight");
        return toFloat(linear(h, n, head, null, d, c.vocabSize()));
    }

    /** OPT: logits (n, vocab) for every position of tokens. */
    public float[] optLogits(int[] tokens) {
        int n = tokens.length;
        int d = c.dModel();
        String p = "model.decoder.";
        float[] emb = w(p + "embed_tokens.weight");
        float[] pos = w(p + "embed_positions.weight");
        double[] x = new double[n * d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) x[i * d + j] = emb[tokens[i] * d + j] + pos[(i + 2) * d + j];
        }
        for (int l = 0; l < c.numDecoderLayers(); l++) {
            String q = p + "layers." + l + ".";
            double[] h = layerNorm(x, n, d, w(q + "self_attn_layer_norm.weight"), w(q + "self_attn_layer_norm.bias"), 1e-5);
            double[] qq = linear(h, n, w(q + "self_attn.q_proj.weight"), w(q + "self_attn.q_proj.bias"), d, d);
            double[] kk = linear(h, n, w(q + "self_attn.k_proj.weight"), w(q + "self_attn.k_proj.bias"), d, d);
            double[] vv = linear(h, n, w(q + "self_attn.v_proj.weight"), w(q + "self_attn.v_proj.bias"), d, d);
            double[] a = attention(qq, kk, vv, n, n, 1 / Math.sqrt(c.headDim()), null, true);
            addInto(x, linear(a, n, w(q + "self_attn.out_proj.weight"), w(q + "self_attn.out_proj.bias"), d, d));
            h = layerNorm(x, n, d, w(q + "final_layer_norm.weight"), w(q + "final_layer_norm.bias"), 1e-5);
            double[] f = linear(h, n, w(q + "fc1.weight"), w(q + "fc1.bias"), d, c.ffnDim());
            for (int i = 0; i < f.length; i++) f[i] = Math.max(0, f[i]);
            addInto(x, linear(f, n, w(q + "fc2.weight"), w(q + "fc2.bias"), c.ffnDim(), d));
        }
        double[] h = layerNorm(x, n, d, w(p + "final_layer_norm.weight"), w(p + "final_layer_norm.bias"), 1e-5);
        float[] head = c.tieWordEmbeddings() ? emb : w("lm_head.weight");
        return toFloat(linear(h, n, head, null, d, c.vocabSize()));
    }

    private double[] t5Bias(String stack, int nq, int nk, boolean bidirectional, int queryOffset) {
        float[] table = w(stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight");
        int heads = c.numHeads();
        double[] bias = new double[heads * nq * nk];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < nq; i++) {
                for (int j = 0; j < nk; j++) {
                    int bucket = T5RelativeBias.bucket(j - (i + queryOffset), bidirectional, T5Options.of(c).numBuckets(),
                            T5Options.of(c).maxDistance());
                    bias[(h * nq + i) * nk + j] = table[bucket * heads + h];
                }
            }
        }
        return bias;
    }

    private double[] t5FeedForward(double[] x, int n, String prefix) {
        int d = c.dModel();
        double[] h = rmsNorm(x, n, d, w(prefix + "layer_norm.weight"), c.normEps());
        String ff = prefix + "DenseReluDense.";
        double[] f;
        if (T5Options.of(c).gatedGelu()) {
            f = linear(h, n, w(ff + "wi_0.weight"), null, d, c.ffnDim());
            double[] g = linear(h, n, w(ff + "wi_1.weight"), null, d, c.ffnDim());
            for (int i = 0; i < f.length; i++) {
                double v = f[i];
                f[i] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))) * g[i];
            }
        } else {
            f = linear(h, n, w(ff + "wi.weight"), null, d, c.ffnDim());
            for (int i = 0; i < f.length; i++) f[i] = Math.max(0, f[i]);
        }
        return linear(f, n, w(ff + "wo.weight"), null, c.ffnDim(), d);
    }

    private double[] t5Attention(double[] x, int n, String prefix, String kind, double[] memory, int m, double[] bias,
                                 boolean causal) {
        int d = c.dModel();
        int inner = c.innerDim();
        double[] h = rmsNorm(x, n, d, w(prefix + "layer_norm.weight"), c.normEps());
        String a = prefix + kind + ".";
        double[] src = memory == null ? h : memory;
        int ns = memory == null ? n : m;
        double[] q = linear(h, n, w(a + "q.weight"), null, d, inner);
        double[] k = linear(src, ns, w(a + "k.weight"), null, d, inner);
        double[] v = linear(src, ns, w(a + "v.weight"), null, d, inner);
        double[] att = attention(q, k, v, n, ns, 1.0, bias, causal);
        return linear(att, n, w(a + "o.weight"), null, inner, d);
    }

    /** T5: logits (n, vocab) for every position of decoderInput, given the encoder input. */
    public float[] t5Logits(int[] input, int[] decoderInput) {
        int d = c.dModel();
        float[] emb = w("shared.weight");
        int m = input.length;
        double[] e = new double[m * d];
        for (int i = 0; i < m; i++) for (int j = 0; j < d; j++) e[i * d + j] = emb[input[i] * d + j];
        double[] encBias = t5Bias("encoder", m, m, true, 0);
        for (int l = 0; l < c.numEncoderLayers(); l++) {
            String b = "encoder.block." + l + ".layer.";
            addInto(e, t5Attention(e, m, b + "0.", "SelfAttention", null, 0, encBias, false));
            addInto(e, t5FeedForward(e, m, b + "1."));
        }
        e = rmsNorm(e, m, d, w("encoder.final_layer_norm.weight"), c.normEps());
        int n = decoderInput.length;
        double[] x = new double[n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i * d + j] = emb[decoderInput[i] * d + j];
        double[] decBias = t5Bias("decoder", n, n, false, 0);
        for (int l = 0; l < c.numDecoderLayers(); l++) {
            String b = "decoder.block." + l + ".layer.";
            addInto(x, t5Attention(x, n, b + "0.", "SelfAttention", null, 0, decBias, true));
            addInto(x, t5Attention(x, n, b + "1.", "EncDecAttention", e, m, null, false));
            addInto(x, t5FeedForward(x, n, b + "2."));
        }
        double[] h = rmsNorm(x, n, d, w("decoder.final_layer_norm.weight"), c.normEps());
        if (c.tieWordEmbeddings()) for (int i = 0; i < h.length; i++) h[i] *= Math.pow(d, -0.5);
        float[] head = c.tieWordEmbeddings() ? emb : w("lm_head.weight");
        return toFloat(linear(h, n, head, null, d, c.vocabSize()));
    }
}
