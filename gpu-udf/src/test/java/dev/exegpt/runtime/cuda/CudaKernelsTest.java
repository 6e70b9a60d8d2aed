package dev.exegpt.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.exegpt.runtime.kernel.ReferenceKernels;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The GEMM kernels against the plain-loop oracle on odd shapes (GPU only; KernelsTest covers the CPU kernels). */
class CudaKernelsTest {

    @BeforeEach
    void needsADevice() {
        CudaProbe.Result r = CudaProbe.probe();
        assumeTrue(r.available(), "no CUDA device (" + r.reason() + "); the CPU kernels are covered by KernelsTest");
    }

    static float[] random(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() - 0.5);
        return a;
    }

    static long upload(Gpu dev, float[] a) {
        long p = dev.alloc(4L * a.length);
        dev.copyIn(p, a, 0, a.length);
        return p;
    }

    static void check(String kernel, float tolerance) {
        ReferenceKernels ref = new ReferenceKernels();
        int[][] shapes = {{1, 1, 1}, {37, 70, 45}, {1, 50272, 64}, {130, 129, 257}, {64, 64, 64}};
        try (CudaDevice dev = new CudaDevice(0)) {
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                float[] a = random(m * k, 1);
                float[] w = random(n * k, 2);
                float[] bias = random(n, 3);
                float[] residual = random(m * n, 4);
                float[] expected = new float[m * n];
                ref.linear(expected, a, ref.prepare(w, n, k), bias, m);
                for (int i = 0; i < expected.length; i++) expected[i] += residual[i];
                long da = upload(dev, a);
                long dw = upload(dev, w);
                long dc = upload(dev, residual);
                long db = upload(dev, bias);
                long weights = dw;
                if (kernel.equals("matmul_f16") || kernel.equals("matmul_bf16")) {
                    long half = dev.alloc(2L * n * k);
                    dev.launch(kernel.equals("matmul_f16") ? "convert_f32_f16" : "convert_f32_bf16",
                            LaunchGeometry.elementwise((long) n * k), half, dw, (long) n * k);
                    weights = half;
                }
                LaunchGeometry g = switch (kernel) {
                    case "matmul_f32" -> LaunchGeometry.matmul(m, n);
                    case "matmul_f32_large" -> new LaunchGeometry((n + 127) / 128, (m + 127) / 128, 256, 0);
                    case "matmul_skinny" -> new LaunchGeometry((n + 7) / 8, 1, 256, 0);
                    default -> LaunchGeometry.matmulWmma(m, n);
                };
                dev.launch(kernel, g, dc, da, weights, db, m, n, k, k, 1);
                float[] actual = new float[m * n];
                dev.copyOut(actual, 0, dc, m * n);
                float worst = 0;
                for (int i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
                assertTrue(worst < tolerance * Math.sqrt(k), kernel + " " + m + "x" + n + "x" + k + ": max abs error " + worst);
            }
        }
    }

    @Test
    void f32MatmulMatchesTheReference() {
        check("matmul_f32", 1e-5f);
    }

    @Test
    void largeTileF32MatmulMatchesTheReference() {
        check("matmul_f32_large", 1e-5f);
    }

    /** One warp per output column, any number of rows (the engine uses it up to 16). */
    @Test
    void skinnyF32MatmulMatchesTheReference() {
        check("matmul_skinny", 1e-5f);
    }

    @Test
    void f16TensorCoreMatmulMatchesTheReferenceToHalfPrecision() {
        check("matmul_f16", 2e-3f);
    }

    @Test
    void bf16TensorCoreMatmulMatchesTheReferenceToBfloatPrecision() {
        check("matmul_bf16", 1.6e-2f);
    }
}
