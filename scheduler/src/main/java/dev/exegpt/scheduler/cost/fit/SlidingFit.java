package dev.exegpt.scheduler.cost.fit;

import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.Map;

import dev.exegpt.scheduler.cost.Phase;

/**
 * The running job's fit: per phase, a sliding window of the newest steps' measured / predicted, and the scale factor
 * it gives, a trimmed mean (robust to a GC pause or a step that shared its core with a burst of another process),
 * held within [min, max]. Where {@link StepFit} fits a finished run by its sums (what a run's throughput depends on),
 * this follows an engine whose speed changes while it runs: a step leaves the window when {@code windowSteps} newer
 * ones of its phase are in it, or when it is older than {@code maxAgeMs} behind the newest, as long as
 * {@code minSteps} remain.
 *
 * @param windowSteps the most steps a phase's window keeps
 * @param minSteps    a phase with fewer keeps its factor, and age never takes a window below this
 * @param maxAgeMs    steps this far behind their phase's newest leave the window
 * @param trim        cut at each end of the window before the mean (0.2: the middle 60%; 0.5: the median)
 * @param minFactor   the lowest factor
 * @param maxFactor   the highest factor
 */
public final class SlidingFit {

    private final int windowSteps;
    private final int minSteps;
    private final double maxAgeMs;
    private final double trim;
    private final double minFactor;
    private final double maxFactor;
    /** Per phase, the newest steps' {end epoch ms, measured / predicted}. */
    private final Map<Phase, ArrayDeque<double[]>> windows = new EnumMap<>(Phase.class);
    private final Map<Phase, Double> factors = new EnumMap<>(Phase.class);

    public SlidingFit(int windowSteps, int minSteps, double maxAgeMs, double trim, double minFactor, double maxFactor) {
        if (windowSteps < 1 || minSteps < 1 || minSteps > windowSteps) {
            throw new IllegalArgumentException("need 1 <= minSteps <= windowSteps, got " + minSteps + " and " + windowSteps);
        }
        if (!(maxAgeMs > 0)) throw new IllegalArgumentException("maxAgeMs must be > 0, got " + maxAgeMs);
        if (!(trim >= 0 && trim <= 0.5)) throw new IllegalArgumentException("trim " + trim + ": expected 0..0.5");
        if (!(minFactor > 0 && minFactor <= 1 && maxFactor >= 1)) {
            throw new IllegalArgumentException("need 0 < minFactor <= 1 <= maxFactor, got " + minFactor + " and " + maxFactor);
        }
        this.windowSteps = windowSteps;
        this.minSteps = minSteps;
        this.maxAgeMs = maxAgeMs;
        this.trim = trim;
        this.minFactor = minFactor;
        this.maxFactor = maxFactor;
        for (Phase p : Phase.values()) {
            windows.put(p, new ArrayDeque<>());
            factors.put(p, 1.0);
        }
    }

    /** One step of {@code phase} that ended at {@code endEpochMs}, measured against what the profile predicts for it. */
    public void add(Phase phase, double endEpochMs, double measuredMs, double predictedMs) {
        if (!(predictedMs > 0) || Double.isInfinite(predictedMs) || !(measuredMs >= 0)) return;
        ArrayDeque<double[]> window = windows.get(phase);
        window.addLast(new double[] {endEpochMs, measuredMs / predictedMs});
        while (window.size() > windowSteps || window.size() > minSteps && window.peekFirst()[0] < endEpochMs - maxAgeMs) {
            window.removeFirst();
        }
    }

    /**
     * Refits every phase from its window now and returns {@code phase}'s factor: a phase whose window holds fewer than
     * {@code minSteps} keeps the factor it had (1 at first).
     */
    public double refit(Phase phase) {
        ArrayDeque<double[]> window = windows.get(phase);
        if (window.size() >= minSteps) {
            double[] v = new double[window.size()];
            int i = 0;
            for (double[] r : window) v[i++] = r[1];
            factors.put(phase, ProfileScaling.clamp(ProfileScaling.trimmedMean(v, trim), minFactor, maxFactor));
        }
        return factors.get(phase);
    }

    /** The steps in {@code phase}'s window. */
    public int size(Phase phase) {
        return windows.get(phase).size();
    }
}
