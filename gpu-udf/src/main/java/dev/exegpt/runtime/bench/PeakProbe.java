package dev.exegpt.runtime.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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
            float[][] abc = triadArrays();
            double best = 0;
            for (int run = 0; run < 5; run++) {
                long t0 = System.nanoTime();
                triadPass(abc);
                double s = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, TRIAD_BYTES / s / 1e9);
            }
            return best;
        });
    }

    private static final int TRIAD_FLOATS = 16 << 20;
    /** Keeps the read's sums alive (a sum nobody reads may be compiled away). */
    static volatile float sink;
    /** Bytes one pass moves as STREAM counts them: two arrays read, one written. */
    private static final double TRIAD_BYTES = 3.0 * 4 * TRIAD_FLOATS;

    private static float[][] triadArrays() {
        float[][] abc = {new float[TRIAD_FLOATS], new float[TRIAD_FLOATS], new float[TRIAD_FLOATS]};
        Arrays.fill(abc[1], 1f);
        Arrays.fill(abc[2], 2f);
        return abc;
    }

    /** a[i] = b[i] + 3 * c[i]. */
    private static void triadPass(float[][] abc) {
        float[] a = abc[0];
        float[] b = abc[1];
        float[] c = abc[2];
        int n = a.length;
        int i = 0;
        for (int upper = F.loopBound(n); i < upper; i += F.length()) {
            FloatVector.fromArray(F, b, i).add(FloatVector.fromArray(F, c, i).mul(3f)).intoArray(a, i);
        }
        for (; i < n; i++) a[i] = b[i] + 3f * c[i];
    }

    /** The sum of the three arrays, read as a decode step reads its weights (no writes). */
    private static float readPass(float[][] abc) {
        return sum(abc[0]) + sum(abc[1]) + sum(abc[2]);
    }

    /**
     * Four independent vector sums over x. One array a call: with the vectors carried across an outer loop over the
     * arrays, C2 kept them in memory and the read ran at 16 GB/s on 2 threads.
     */
    private static float sum(float[] x) {
        int l = F.length();
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        FloatVector s2 = FloatVector.zero(F);
        FloatVector s3 = FloatVector.zero(F);
        int i = 0;
        for (int upper = x.length - 4 * l; i <= upper; i += 4 * l) {
            s0 = s0.add(FloatVector.fromArray(F, x, i));
            s1 = s1.add(FloatVector.fromArray(F, x, i + l));
            s2 = s2.add(FloatVector.fromArray(F, x, i + 2 * l));
            s3 = s3.add(FloatVector.fromArray(F, x, i + 3 * l));
        }
        float tail = 0;
        for (; i < x.length; i++) tail += x[i];
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD) + tail;
    }

    /**
     * A memory-rate probe to take again and again beside other work (between a benchmark's timed steps, so that the
     * work and its yardstick see the same machine: here the memory system's rate moves 39-88 GB/s from one minute to
     * the next): the STREAM {@link #triad} or a plain {@link #read}. Its arrays and threads are made once, so a sample
     * leaves almost no garbage for a collector to take during the work.
     */
    public static final class Stream implements AutoCloseable {
        private final boolean triad;
        private final float[][][] arrays;
        private final ExecutorService pool;
        private final CyclicBarrier start;
        /** Passes per sample, of which the fastest counts. */
        static final int PASSES_PER_SAMPLE = 3;

        /** The STREAM triad on threads threads (3 x 64 MiB of arrays each, held until closed). */
        public static Stream triad(int threads) {
            return new Stream(true, threads);
        }

        /** A read of 3 x 64 MiB per thread, every float once (what a decode step does to its weights). */
        public static Stream read(int threads) {
            return new Stream(false, threads);
        }

        private Stream(boolean triad, int threads) {
            if (threads < 1) throw new IllegalArgumentException("threads=" + threads + ": must be at least 1");
            this.triad = triad;
            arrays = new float[threads][][];
            for (int t = 0; t < threads; t++) arrays[t] = triadArrays();
            pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, triad ? "triad-probe" : "read-probe");
                t.setDaemon(true);
                return t;
            });
            start = new CyclicBarrier(threads);
            sample();                                                   // first touch and JIT, not a figure
        }

        /**
         * GB/s of the best of {@link #PASSES_PER_SAMPLE} passes on every thread at once (the triad as STREAM counts it,
         * 12 bytes an element; the read 4 bytes a float), each timed from the first thread's start to the last one's end. The first pass after a pause is
         * the slowest (threads woken, caches holding other work): 12-43 GB/s against 45-52 for the next ones here.
         */
        public double sample() {
            int threads = arrays.length;
            List<Future<long[]>> fs = new ArrayList<>(threads);
            for (float[][] abc : arrays) {
                fs.add(pool.submit(() -> {
                    long[] times = new long[2 * PASSES_PER_SAMPLE];
                    for (int p = 0; p < PASSES_PER_SAMPLE; p++) {
                        start.await();
                        times[2 * p] = System.nanoTime();
                        if (triad) triadPass(abc);
                        else sink += readPass(abc);
                        times[2 * p + 1] = System.nanoTime();
                    }
                    return times;
                }));
            }
            try {
                long[][] times = new long[threads][];
                for (int t = 0; t < threads; t++) times[t] = fs.get(t).get();
                long best = Long.MAX_VALUE;
                for (int p = 0; p < PASSES_PER_SAMPLE; p++) {
                    long first = Long.MAX_VALUE;
                    long last = Long.MIN_VALUE;
                    for (long[] t : times) {
                        first = Math.min(first, t[2 * p]);
                        last = Math.max(last, t[2 * p + 1]);
                    }
                    best = Math.min(best, last - first);
                }
                return threads * TRIAD_BYTES / (best / 1e9) / 1e9;           // a read touches as many bytes
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while probing the triad", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("the triad probe failed", e);
            }
        }

        @Override
        public void close() {
            pool.shutdownNow();
        }
    }
}
