package dev.exegpt.runtime.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's ceilings as Java sees them: f32 FMA throughput of a register-only Vector API loop (no memory
 * traffic) and the STREAM triad a[i] = b[i] + s * c[i] over arrays far larger than the caches, on n threads.
 */
public final class PeakProbe {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private PeakProbe() {}

    private static double onThreads(int threads, Callable<Double> perThread) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Double>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) fs.add(pool.submit(perThread));
            double sum = 0;
            for (Future<Double> f : fs) sum += f.get();
            return sum;
        } finally {
            pool.shutdownNow();
        }
    }

    /** GFLOP/s of fused multiply-adds on threads threads (sum over threads, best of 5 runs each). */
    public static double fmaGflops(int threads) throws Exception {
        return onThreads(threads, () -> {
            double best = 0;
            for (int run = 0; run < 5; run++) {
                long iterations = 20_000_000;
                long t0 = System.nanoTime();
                float sink = fmaLoop(iterations);
                double s = (System.nanoTime() - t0) / 1e9;
                if (sink == 42) System.out.print("");
                best = Math.max(best, 2.0 * 8 * F.length() * iterations / s / 1e9);
            }
            return best;
        });
    }

    private static float fmaLoop(long iterations) {
        FloatVector m = FloatVector.broadcast(F, 0.999999f);
        FloatVector a = FloatVector.broadcast(F, 1e-7f);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        FloatVector c4 = FloatVector.zero(F), c5 = FloatVector.zero(F), c6 = FloatVector.zero(F), c7 = FloatVector.zero(F);
        for (long i = 0; i < iterations; i++) {                 // 8 independent chains hide the FMA latency
            c0 = c0.fma(m, a); c1 = c1.fma(m, a); c2 = c2.fma(m, a); c3 = c3.fma(m, a);
            c4 = c4.fma(m, a); c5 = c5.fma(m, a); c6 = c6.fma(m, a); c7 = c7.fma(m, a);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).lane(0);
    }

    /** GB/s of the STREAM triad on threads threads (each on its own 3 x 64 MiB arrays; best of 5 runs). */
    public static double triadGbPerSecond(int threads) throws Exception {
        return onThreads(threads, () -> {
            int n = 16 << 20;
            float[] a = new float[n];
            float[] b = new float[n];
            float[] c = new float[n];
            Arrays.fill(b, 1f);
            Arrays.fill(c, 2f);
            double best = 0;
            for (int run = 0; run < 5; run++) {
                long t0 = System.nanoTime();
                int i = 0;
                for (int upper = F.loopBound(n); i < upper; i += F.length()) {
                    FloatVector.fromArray(F, b, i).add(FloatVector.fromArray(F, c, i).mul(3f)).intoArray(a, i);
                }
                for (; i < n; i++) a[i] = b[i] + 3f * c[i];
                double s = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, 3.0 * 4 * n / s / 1e9);
            }
            return best;
        });
    }
}
