package dev.exegpt.scheduler.workload;

/**
 * A distribution of token counts over 1..max. Sampling goes through the inverse CDF so that a Gaussian copula can
 * correlate input and output lengths (translation, PAPER.md §12.3); {@link #pmf()} feeds the batch-composition
 * formulas of the simulator (PAPER.md §8).
 */
public sealed interface LengthDistribution permits TruncatedNormal, EmpiricalQuantiles {

    /** The token count at cumulative probability u in [0, 1]. */
    int quantile(double u);

    /** Largest possible value. */
    int max();

    /** pmf()[k] = P(length = k) for k in 0..max (index 0 is always 0). */
    double[] pmf();

    default double mean() {
        double[] p = pmf();
        double m = 0;
        for (int k = 1; k < p.length; k++) m += k * p[k];
        return m;
    }

    /** E[L^2] / (2 E[L]): the expected age of a resident request in a length-biased (Little's-law) batch. */
    default double meanResidentAge() {
        double[] p = pmf();
        double m1 = 0, m2 = 0;
        for (int k = 1; k < p.length; k++) {
            m1 += k * p[k];
            m2 += (double) k * k * p[k];
        }
        return m2 / (2 * m1);
    }
}
