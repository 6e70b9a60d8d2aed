package dev.exegpt.scheduler.workload;

import static dev.exegpt.scheduler.Require.require;

/**
 * An empirical distribution given by its percentiles 0..100 (derived from a trace by datasets/derive.py), with
 * linear interpolation between percentiles.
 */
public record EmpiricalQuantiles(int[] percentiles) implements LengthDistribution {
    public EmpiricalQuantiles {
        require(percentiles.length == 101, "percentiles must hold 101 values (0..100), got %s", percentiles.length);
        for (int i = 1; i < percentiles.length; i++) {
            require(percentiles[i] >= percentiles[i - 1], "percentiles must be non-decreasing, got %s after %s at %s",
                    percentiles[i], percentiles[i - 1], i);
        }
        require(percentiles[0] >= 1, "percentile 0 must be >= 1 token, got %s", percentiles[0]);
        percentiles = percentiles.clone();
    }

    /**
     * The distribution of a sample of lengths (each at least 1): its percentiles 0..100 by the nearest rank, as
     * datasets/derive.py derives a task's from a trace.
     */
    public static EmpiricalQuantiles of(int[] samples) {
        require(samples.length > 0, "no lengths to derive a distribution from");
        int[] sorted = samples.clone();
        java.util.Arrays.sort(sorted);
        int[] p = new int[101];
        for (int i = 0; i <= 100; i++) {
            int rank = (int) Math.round(i / 100.0 * (sorted.length - 1));
            p[i] = Math.max(1, sorted[rank]);
        }
        return new EmpiricalQuantiles(p);
    }

    /** A copy: the distribution is shared (task files are cached) and must not change under its users. */
    @Override
    public int[] percentiles() {
        return percentiles.clone();
    }

    @Override
    public int quantile(double u) {
        double x = Math.min(Math.max(u, 0), 1) * 100;
        int i = (int) Math.min(99, Math.floor(x));
        double f = x - i;
        return (int) Math.round(percentiles[i] + f * (percentiles[i + 1] - percentiles[i]));
    }

    @Override
    public int max() {
        return percentiles[100];
    }

    @Override
    public double[] pmf() {
        return PmfCache.get(this, this::computePmf);
    }

    private double[] computePmf() {
        double[] p = new double[max() + 1];
        int steps = 20_000;
        for (int s = 0; s < steps; s++) {
            p[quantile((s + 0.5) / steps)] += 1.0 / steps;
        }
        return p;
    }
}
