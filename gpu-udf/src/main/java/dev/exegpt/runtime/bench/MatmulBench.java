package dev.exegpt.runtime.bench;

import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.Matrix;
import dev.exegpt.runtime.kernel.VectorKernels;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Measures f32 matmul throughput of a {@link Kernels} on a square shape: warm-up, repeats, median. */
public final class MatmulBench {
    private MatmulBench() {}

    /** One measurement: the median over repeats, in GFLOP/s (2 * n^3 floating-point operations per matmul). */
    public record Result(String kernels, int size, double medianMs, double gflopsPerSecond) {}

    /** Runs an (n, n) @ (n, n) matmul {@code repeats} times after {@code warmups} untimed runs. */
    public static Result run(Kernels kernels, int n, int warmups, int repeats) {
        SplittableRandom rnd = new SplittableRandom(42);
        float[] a = new float[n * n];
        float[] w = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextDouble() - 0.5);
            w[i] = (float) (rnd.nextDouble() - 0.5);
        }
        Matrix m = kernels.prepare(w, n, n);
        float[] out = new float[n * n];
        for (int i = 0; i < warmups; i++) kernels.linear(out, a, m, null, n);
        double[] ms = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            kernels.linear(out, a, m, null, n);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        double median = ms[repeats / 2];
        return new Result(kernels.name(), n, median, 2.0 * n * n * n / (median * 1e6));
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        for (int threads = 1; threads <= 2; threads++) {
            try (VectorKernels k = new VectorKernels(threads)) {
                Result r = run(k, n, 5, 11);
                System.out.printf("%s %d^3: %.1f ms, %.1f GFLOP/s%n", r.kernels(), n, r.medianMs(), r.gflopsPerSecond());
            }
        }
    }
}
