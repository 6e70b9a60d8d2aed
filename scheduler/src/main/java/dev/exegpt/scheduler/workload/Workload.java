package dev.exegpt.scheduler.workload;

import static dev.exegpt.scheduler.Require.require;

import java.util.random.RandomGenerator;

/**
 * A task: input and output length distributions, their rank correlation, and the output length that defines the
 * latency bound (PAPER.md §2.2: the task's 99th percentile; the table's value for the paper's synthetic tasks).
 *
 * @param spearmanCorrelation rank correlation of input and output lengths, applied through a Gaussian copula
 * @param boundOutputTokens   the p99 output length, the length whose worst-case latency must meet L_B
 */
public record Workload(String name, String description, String source, LengthDistribution input,
                       LengthDistribution output, double spearmanCorrelation, int boundOutputTokens) {
    public Workload {
        require(name != null && !name.isBlank(), "name must be non-empty, got '%s'", name);
        require(spearmanCorrelation > -1 && spearmanCorrelation < 1,
                "spearmanCorrelation must be in (-1, 1), got %s", spearmanCorrelation);
        require(boundOutputTokens >= 1 && boundOutputTokens <= output.max(),
                "boundOutputTokens must be in 1..%s, got %s", output.max(), boundOutputTokens);
    }

    /** Draws one request's lengths; input and output are correlated via a Gaussian copula when the data says so. */
    public LengthSample sample(RandomGenerator rng) {
        double z1 = rng.nextGaussian();
        double z2 = rng.nextGaussian();
        if (spearmanCorrelation != 0) {
            double r = 2 * Math.sin(Math.PI * spearmanCorrelation / 6);   // Spearman -> Pearson for a normal copula
            z2 = r * z1 + Math.sqrt(1 - r * r) * z2;
        }
        return new LengthSample(input.quantile(NormalMath.cdf(z1)), output.quantile(NormalMath.cdf(z2)));
    }

    public double meanInputTokens() { return input.mean(); }

    public double meanOutputTokens() { return output.mean(); }

    public int maxOutputTokens() { return output.max(); }

    /** A copy with the output distribution replaced (drift studies); the bound length is recomputed as its p99. */
    public Workload withOutput(LengthDistribution newOutput, String newName) {
        return new Workload(newName, description, source, input, newOutput, spearmanCorrelation, newOutput.quantile(0.99));
    }
}
