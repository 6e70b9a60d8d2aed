package dev.exegpt.runtime.weights;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded random weights with the Hugging Face tensor names and shapes of each architecture, scaled as the
 * Hugging Face initialisers scale them (OPT: std 0.02; T5: fan-in based), so activations stay in range. Norm weights
 * and biases get small noise around 1 and 0 so that tests exercise them. Each tensor draws from its own stream
 * (seed and name), so a tensor's values do not depend on the others.
 */
public final class RandomWeights {
    private final long seed;
    private final List<Tensor> tensors = new ArrayList<>();

    private RandomWeights(long seed) {
        this.seed = seed;
    }

    /** All tensors of a model with this config, in checkpoint order. */
    public static List<Tensor> generate(ModelConfig c, long seed) {
        RandomWeights w = new RandomWeights(seed);
        if (c.architecture() == Architecture.T5) w.t5(c);
        else w.opt(c);
        return w.tensors;
    }

    private void add(String name, float mean, double std, int... shape) {
        int size = 1;
        for (int d : shape) size *= d;
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        float[] data = new float[size];
        double halfWidth = std * Math.sqrt(3);                 // uniform with this standard deviation
        for (int i = 0; i < size; i++) data[i] = mean + (float) ((rnd.nextDouble() * 2 - 1) * halfWidth);
        tensors.add(new Tensor(name, shape, data));
    }

    private void opt(ModelConfig c) {
        int d = c.dModel();
        String p = "model.decoder.";
        add(p + "embed_tokens.weight", 0, 0.02, c.vocabSize(), d);
        add(p + "embed_positions.weight", 0, 0.02, c.maxPositions() + ModelConfig.OPT_POSITION_OFFSET, d);
        for (int i = 0; i < c.numDecoderLayers(); i++) {
            String l = p + "layers." + i + ".";
            for (String proj : new String[] {"k_proj", "v_proj", "q_proj", "out_proj"}) {
                add(l + "self_attn." + proj + ".weight", 0, 0.02, d, d);
                add(l + "self_attn." + proj + ".bias", 0, 0.02, d);
            }
            add(l + "self_attn_layer_norm.weight", 1, 0.05, d);
            add(l + "self_attn_layer_norm.bias", 0, 0.05, d);
            add(l + "fc1.weight", 0, 0.02, c.ffnDim(), d);
            add(l + "fc1.bias", 0, 0.02, c.ffnDim());
            add(l + "fc2.weight", 0, 0.02, d, c.ffnDim());
            add(l + "fc2.bias", 0, 0.02, d);
            add(l + "final_layer_norm.weight", 1, 0.05, d);
            add(l + "final_layer_norm.bias", 0, 0.05, d);
        }
        add(p + "final_layer_norm.weight", 1, 0.05, d);
        add(p + "final_layer_norm.bias", 0, 0.05, d);
        if (!c.tieWordEmbeddings()) add("lm_head.weight", 0, 0.02, c.vocabSize(), d);
    }

    private void t5(ModelConfig c) {
        int d = c.dModel();
        add("shared.weight", 0, 1.0, c.vocabSize(), d);
        for (int i = 0; i < c.numEncoderLayers(); i++) {
            String b = "encoder.block." + i + ".layer.";
            t5Attention(c, b + "0.SelfAttention.", i == 0);
            add(b + "0.layer_norm.weight", 1, 0.05, d);
            t5FeedForward(c, b + "1.DenseReluDense.");
            add(b + "1.layer_norm.weight", 1, 0.05, d);
        }
        add("encoder.final_layer_norm.weight", 1, 0.05, d);
        for (int i = 0; i < c.numDecoderLayers(); i++) {
            String b = "decoder.block." + i + ".layer.";
            t5Attention(c, b + "0.SelfAttention.", i == 0);
            add(b + "0.layer_norm.weight", 1, 0.05, d);
            t5Attention(c, b + "1.EncDecAttention.", false);
            add(b + "1.layer_norm.weight", 1, 0.05, d);
            t5FeedForward(c, b + "2.DenseReluDense.");
            add(b + "2.layer_norm.weight", 1, 0.05, d);
        }
        add("decoder.final_layer_norm.weight", 1, 0.05, d);
        if (!c.tieWordEmbeddings()) add("lm_head.weight", 0, Math.pow(d, -0.5), c.vocabSize(), d);
    }

    private void t5Attention(ModelConfig c, String prefix, boolean withBias) {
        int d = c.dModel();
        int inner = c.innerDim();
        add(prefix + "q.weight", 0, Math.pow((double) d * c.headDim(), -0.5), inner, d);
        add(prefix + "k.weight", 0, Math.pow(d, -0.5), inner, d);
        add(prefix + "v.weight", 0, Math.pow(d, -0.5), inner, d);
        add(prefix + "o.weight", 0, Math.pow(inner, -0.5), d, inner);
        if (withBias) add(prefix + "relative_attention_bias.weight", 0, Math.pow(d, -0.5), c.numBuckets(), c.numHeads());
    }

    private void t5FeedForward(ModelConfig c, String prefix) {
        int d = c.dModel();
        if (c.gatedGelu()) {
            add(prefix + "wi_0.weight", 0, Math.pow(d, -0.5), c.ffnDim(), d);
            add(prefix + "wi_1.weight", 0, Math.pow(d, -0.5), c.ffnDim(), d);
        } else {
            add(prefix + "wi.weight", 0, Math.pow(d, -0.5), c.ffnDim(), d);
        }
        add(prefix + "wo.weight", 0, Math.pow(c.ffnDim(), -0.5), d, c.ffnDim());
    }
}
