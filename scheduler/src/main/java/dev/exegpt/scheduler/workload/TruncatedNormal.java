package dev.exegpt.scheduler.workload;

import static dev.exegpt.scheduler.Require.require;

/**
 * Normal(mean, std) truncated to [1, max] and rounded (PAPER.md §12.3 [choice]): the continuous variable is truncated
 * to [0.5, max + 0.5) so that rounding gives exactly 1..max. mean and std are the normal's parameters, not the
 * moments of the truncated result (the paper's Table 3 std is the parameter).
 */
public record TruncatedNormal(double mean, double std, int max) implements LengthDistribution {
    public TruncatedNormal {
        require(std > 0, "std must be > 0, got %s", std);
        require(max >= 1, "max must be >= 1, got %s", max);
    }

    private double lowCdf() { return NormalMath.cdf((0.5 - mean) / std); }

    private double highCdf() { return NormalMath.cdf((max + 0.5 - mean) / std); }

    @Override
    public int quantile(double u) {
        double lo = lowCdf(), hi = highCdf();
        double x = mean + std * NormalMath.inverseCdf(lo + Math.min(Math.max(u, 1e-12), 1 - 1e-12) * (hi - lo));
        return (int) Math.max(1, Math.min(max, Math.round(x)));
    }

    @Override
    public double[] pmf() {
        return PmfCache.get(this, this::computePmf);
    }

    private double[] computePmf() {
        double lo = lowCdf(), hi = highCdf();
        double[] p = new double[max + 1];
        double prev = lo;
        for (int k = 1; k <= max; k++) {
            double next = NormalMath.cdf((k + 0.5 - mean) / std);
            p[k] = (next - prev) / (hi - lo);
            prev = next;
        }
        return p;
    }
}
