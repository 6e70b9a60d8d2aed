package dev.exegpt.scheduler.workload;

import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Supplier;

/**
 * Distributions are immutable records, so their probability mass functions are computed once: the search asks for
 * them on every simulated candidate. Weak keys, so a distribution that is no longer used releases its table.
 */
final class PmfCache {
    private static final Map<LengthDistribution, double[]> CACHE = new WeakHashMap<>();

    private PmfCache() {}

    static double[] get(LengthDistribution d, Supplier<double[]> compute) {
        double[] p;
        synchronized (CACHE) {
            p = CACHE.get(d);
        }
        if (p == null) {
            p = compute.get();
            synchronized (CACHE) {
                CACHE.put(d, p);
            }
        }
        return p.clone();
    }
}
