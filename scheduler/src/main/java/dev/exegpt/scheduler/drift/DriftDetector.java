package dev.exegpt.scheduler.drift;

import static dev.exegpt.scheduler.Require.require;

import dev.exegpt.scheduler.workload.EmpiricalQuantiles;
import dev.exegpt.scheduler.workload.LengthDistribution;
import java.util.Arrays;

/**
 * Watches the output lengths of recently completed requests and says when they no longer fit the distribution the
 * schedule was planned for (PAPER.md §17 [choice]; the paper re-plans by hand, §13.2). Three tests on a sliding
 * window, any of which fires:
 * <ul>
 *   <li>mean: the window mean differs from the planned mean by more than {@link #MEAN_SHIFT} (10%: PAPER.md §13.2,
 *       a mean 15% too high needs a 10-13% tighter bound) and by more than 4 standard errors;</li>
 *   <li>tail: the window's 99th percentile differs from the planned bound length by more than {@link #TAIL_SHIFT}
 *       (the bound is defined at that length, SLA-(b)), and the share of lengths past the shifted bound differs from
 *       the planned share by more than 4 standard errors: in a window of 200 (the job's) the 99th percentile is the
 *       third longest length, and task S's own lengths put it 14% past the bound (72 against 63 tokens) in an
 *       integration test run, which re-planned for a drift that was not there;</li>
 *   <li>shape: the Kolmogorov-Smirnov distance exceeds max(2.23 / sqrt(n), 0.1) (alpha = 0.0001, as rare as the
 *       mean test's 4 standard errors: the loop checks a sliding window every few seconds, and at alpha = 0.01 one of
 *       50 windows of 200 of task S's own lengths fired; and at least a 10-point CDF gap so that large windows do not
 *       fire on noise the schedule does not care about).</li>
 * </ul>
 * At least {@link #MIN_SAMPLES} observations are needed before anything fires.
 */
public final class DriftDetector {
    public static final double MEAN_SHIFT = 0.10;
    public static final double TAIL_SHIFT = 0.10;
    public static final int MIN_SAMPLES = 200;

    private final LengthDistribution planned;
    private final double plannedMean;
    private final double plannedStd;
    private final int plannedBoundTokens;
    private final int[] window;
    private int size;
    private int next;

    public record Verdict(boolean drifted, String reason, int numSamples, double observedMean, double plannedMean,
                          int observedP99, int plannedP99, double ksDistance) {}

    public DriftDetector(LengthDistribution planned, int plannedBoundTokens, int windowSize) {
        require(windowSize >= MIN_SAMPLES, "windowSize must be >= %s, got %s", MIN_SAMPLES, windowSize);
        this.planned = planned;
        this.plannedBoundTokens = plannedBoundTokens;
        double[] pmf = planned.pmf();
        double m = 0, m2 = 0;
        for (int k = 1; k < pmf.length; k++) { m += k * pmf[k]; m2 += (double) k * k * pmf[k]; }
        this.plannedMean = m;
        this.plannedStd = Math.sqrt(Math.max(0, m2 - m * m));
        this.window = new int[windowSize];
    }

    /** Records one completed request's output length. */
    public void observe(int numOutputTokens) {
        window[next] = numOutputTokens;
        next = (next + 1) % window.length;
        size = Math.min(size + 1, window.length);
    }

    public int numSamples() {
        return size;
    }

    public Verdict check() {
        int[] w = Arrays.copyOf(size == window.length ? window : Arrays.copyOf(window, size), size);
        Arrays.sort(w);
        double mean = Arrays.stream(w).average().orElse(0);
        int p99 = size == 0 ? 0 : w[Math.min(size - 1, (int) Math.floor(0.99 * size))];
        double ks = ksDistance(w);
        if (size < MIN_SAMPLES) {
            return new Verdict(false, "too few samples (%d < %d)".formatted(size, MIN_SAMPLES), size, mean, plannedMean, p99,
                    plannedBoundTokens, ks);
        }
        double rel = (mean - plannedMean) / plannedMean;
        double z = Math.abs(mean - plannedMean) / (plannedStd / Math.sqrt(size));
        String reason = null;
        if (Math.abs(rel) > MEAN_SHIFT && z > 4) {
            reason = "mean output length %.1f vs planned %.1f (%+.0f%%)".formatted(mean, plannedMean, 100 * rel);
        } else if (Math.abs(p99 - plannedBoundTokens) > TAIL_SHIFT * plannedBoundTokens && tailMoved(w, p99 > plannedBoundTokens)) {
            reason = "p99 output length %d vs planned %d".formatted(p99, plannedBoundTokens);
        } else if (ks > Math.max(2.23 / Math.sqrt(size), 0.1)) {
            reason = "distribution shape changed (KS distance %.3f)".formatted(ks);
        }
        return new Verdict(reason != null, reason == null ? "no drift" : reason, size, mean, plannedMean, p99,
                plannedBoundTokens, ks);
    }

    /**
     * Whether the share of the window past the shifted bound ({@code longer}: above the bound x (1 + TAIL_SHIFT);
     * else above the bound x (1 - TAIL_SHIFT)) is more than 4 binomial standard errors from the planned share, in the
     * direction the 99th percentile moved.
     */
    private boolean tailMoved(int[] sorted, boolean longer) {
        double edge = plannedBoundTokens * (longer ? 1 + TAIL_SHIFT : 1 - TAIL_SHIFT);
        double[] pmf = planned.pmf();
        double q = 0;
        for (int k = (int) Math.floor(edge) + 1; k < pmf.length; k++) q += pmf[k];
        int past = 0;
        for (int len : sorted) if (len > edge) past++;
        int n = sorted.length;
        double expected = n * q;
        double se = Math.sqrt(n * q * (1 - q));
        double excess = longer ? past - expected : expected - past;
        return excess > 0 && (se == 0 || excess > 4 * se);
    }

    private double ksDistance(int[] sorted) {
        if (sorted.length == 0) return 0;
        double[] pmf = planned.pmf();
        double max = 0, cdf = 0;
        int i = 0;
        int top = Math.max(pmf.length - 1, sorted[sorted.length - 1]);
        for (int k = 1; k <= top; k++) {
            cdf += k < pmf.length ? pmf[k] : 0;
            while (i < sorted.length && sorted[i] <= k) i++;
            max = Math.max(max, Math.abs((double) i / sorted.length - cdf));
        }
        return max;
    }

    /** The window as a distribution, for re-planning (percentiles 0..100). */
    public LengthDistribution observed() {
        require(size >= MIN_SAMPLES, "need at least %s samples to describe the observed distribution, got %s", MIN_SAMPLES, size);
        int[] w = Arrays.copyOf(size == window.length ? window : Arrays.copyOf(window, size), size);
        Arrays.sort(w);
        int[] q = new int[101];
        for (int p = 0; p <= 100; p++) q[p] = Math.max(1, w[Math.min(size - 1, (int) Math.round(p / 100.0 * (size - 1)))]);
        return new EmpiricalQuantiles(q);
    }
}
