package dev.exegpt.runtime.weights;

import dev.exegpt.runtime.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded random weights with the Hugging Face tensor names and shapes of each family (which lists them, see
 * {@link dev.exegpt.runtime.model.ModelFamily#randomWeights}), scaled as the Hugging Face initialisers scale them
 * (OPT, Llama: std 0.02; T5: fan-in based), so activations stay in range. Norm weights
 * and biases get small noise around 1 and 0 so that tests exercise them. Each tensor draws from its own stream
 * (seed and name), so a tensor's values do not depend on the others.
 */
public final class RandomWeights {
    private final long seed;
    private final List<Tensor> tensors = new ArrayList<>();

    private RandomWeights(long seed) {
        this.seed = seed;
    }

    /** All tensors of a model with this config, in checkpoint order (its family names and shapes them). */
    public static List<Tensor> generate(ModelConfig c, long seed) {
        RandomWeights w = new RandomWeights(seed);
        c.family().randomWeights(c, w);
        return w.tensors;
    }

    /** Adds a tensor of this shape, uniform with this mean and standard deviation, drawn from its own stream. */
    public void add(String name, float mean, double std, int... shape) {
        int size = 1;
        for (int d : shape) size *= d;
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        float[] data = new float[size];
        double halfWidth = std * Math.sqrt(3);                 // uniform with this standard deviation
        for (int i = 0; i < size; i++) data[i] = mean + (float) ((rnd.nextDouble() * 2 - 1) * halfWidth);
        tensors.add(new Tensor(name, shape, data));
    }
}
