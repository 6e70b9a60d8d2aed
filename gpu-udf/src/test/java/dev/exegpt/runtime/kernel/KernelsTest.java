package dev.exegpt.runtime.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.weights.DType;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every fast kernel against {@link ReferenceKernels}, on shapes that are not multiples of the vector length. */
class KernelsTest {
    private static final ReferenceKernels REF = new ReferenceKernels();
    private static final int[] SIZES = {1, 7, 33, 100, 4096 + 3};

    /** Fresh instances per test: JUnit closes AutoCloseable arguments after each invocation. */
    static Stream<Arguments> kernels() {
        return Stream.of(Arguments.of(new VectorKernels(1)), Arguments.of(new VectorKernels(2)));
    }

    private static float[] random(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    private static void assertClose(float[] expected, float[] actual, int len, float tolerance, String what) {
        for (int i = 0; i < len; i++) {
            float scale = Math.max(1f, Math.abs(expected[i]));
            assertEquals(expected[i], actual[i], tolerance * scale, what + " at " + i);
        }
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void linearMatchesReferenceOnOddShapes(Kernels k) {
        Random rnd = new Random(1);
        int[][] shapes = {{1, 1, 1}, {1, 33, 7}, {2, 40, 64}, {3, 17, 65}, {1, 256, 400}, {3, 101, 230}, {4, 64, 32}, {5, 300, 97}, {6, 64, 33}, {7, 129, 96},
                {10, 31, 40}, {11, 70, 130}, {13, 257, 129}, {20, 600, 70}, {64, 100, 1000}, {67, 48, 64}};
        for (int[] s : shapes) {
            int m = s[0], kk = s[1], n = s[2];
            float[] a = random(rnd, m * kk);
            float[] w = random(rnd, n * kk);
            float[] bias = random(rnd, n);
            float[] expected = new float[m * n];
            float[] actual = new float[m * n];
            REF.linear(expected, a, REF.prepare(w, n, kk), bias, m);
            k.linear(actual, a, k.prepare(w, n, kk), bias, m);
            assertClose(expected, actual, m * n, 1e-4f, "linear " + m + "x" + kk + "x" + n);
            REF.linear(expected, a, REF.prepare(w, n, kk), null, m);
            k.linear(actual, a, k.prepare(w, n, kk), null, m);
            assertClose(expected, actual, m * n, 1e-4f, "linear no bias " + m + "x" + kk + "x" + n);
        }
    }

    /**
     * 16-bit weights kept in 16 bits and widened in the kernel give what the reference gives on the same weights widened
     * at load, on every path of the kernel: fewer rows than a register tile (widened in registers), tiles of 4 and 8
     * rows, more rows than a decode (k-blocked), partial last panels. The F16 weights include subnormals, zeros of both
     * signs and the largest finite values.
     */
    @ParameterizedTest
    @MethodSource("kernels")
    void sixteenBitWeightsGiveTheWidenedWeightsResults(Kernels k) {
        Random rnd = new Random(2);
        int[][] shapes = {{1, 1, 1}, {1, 33, 7}, {1, 768, 64}, {2, 40, 64}, {3, 17, 65}, {1, 96, 300}, {2, 31, 256},
                {3, 50, 160}, {1, 256, 400}, {2, 200, 300}, {4, 64, 32}, {5, 300, 97},
                {9, 129, 96}, {17, 70, 130}, {40, 600, 70}, {64, 100, 1000}};
        for (DType dtype : new DType[] {DType.BF16, DType.F16}) {
            for (int[] s : shapes) {
                int m = s[0], kk = s[1], n = s[2];
                float[] a = random(rnd, m * kk);
                short[] bits = dtype.narrow(random(rnd, n * kk));
                if (dtype == DType.F16) {
                    short[] special = {0x0001, (short) 0x83ff, 0x0000, (short) 0x8000, 0x7bff, (short) 0xfbff, 0x0400};
                    for (int i = 0; i < special.length && i < bits.length; i++) bits[(i * 7919) % bits.length] = special[i];
                }
                float[] widened = dtype.widen(bits);
                float[] bias = random(rnd, n);
                float[] expected = new float[m * n];
                float[] actual = new float[m * n];
                REF.linear(expected, a, REF.prepare(widened, n, kk), bias, m);
                Matrix w = k.prepare16(bits, dtype, n, kk);
                k.linear(actual, a, w, bias, m);
                assertClose(expected, actual, m * n, 1e-4f, dtype + " linear " + m + "x" + kk + "x" + n);
                assertEquals(2L * n * kk, w.numBytes(), 4L * 32 * kk, dtype + " is kept in 16 bits (panels padded)");
            }
        }
    }

    /**
     * Products of one input run as one loop give each product's own result: chunks that span two or three matrices,
     * matrices of one or several panels and partial last panels, every dtype's panel group, a bias on some products
     * only, from one row (the register kernels, chunks shrinking) to many (one chunk a thread).
     */
    @ParameterizedTest
    @MethodSource("kernels")
    void linearsOfOneInputGiveEachProductsOwnResult(Kernels k) {
        Random rnd = new Random(3);
        int[][] outputs = {{768, 256, 256}, {7, 33, 65}, {96, 32}, {1, 400, 1}, {130, 130, 130}};
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int m : new int[] {1, 3, 8, 40}) {
                for (int[] ns : outputs) {
                    int kk = m == 40 ? 70 : 256;
                    float[] a = random(rnd, m * kk);
                    Matrix[] ws = new Matrix[ns.length];
                    float[][] biases = new float[ns.length][];
                    float[][] outs = new float[ns.length][];
                    float[][] expected = new float[ns.length][];
                    for (int i = 0; i < ns.length; i++) {
                        float[] w = random(rnd, ns[i] * kk);
                        if (dtype != DType.F32) w = dtype.widen(dtype.narrow(w));
                        ws[i] = dtype == DType.F32 ? k.prepare(w, ns[i], kk) : k.prepare16(dtype.narrow(w), dtype, ns[i], kk);
                        biases[i] = i == 1 ? null : random(rnd, ns[i]);
                        outs[i] = new float[m * ns[i]];
                        expected[i] = new float[m * ns[i]];
                        REF.linear(expected[i], a, REF.prepare(w, ns[i], kk), biases[i], m);
                    }
                    k.linears(outs, a, ws, biases, m);
                    for (int i = 0; i < ns.length; i++) {
                        assertClose(expected[i], outs[i], m * ns[i], 1e-4f,
                                dtype + " linears " + m + " rows, product " + i + " of " + java.util.Arrays.toString(ns));
                    }
                }
            }
        }
        float[][] noOut = {new float[4]};
        Matrix[] two = {k.prepare(new float[8], 2, 4), k.prepare(new float[8], 2, 4)};
        assertThrows(IllegalArgumentException.class, () -> k.linears(noOut, new float[4], two, null, 1));
    }

    @Test
    void chunksCoverEveryGroupOnceAndShrinkTowardsTheEnd() {
        for (int groups = 1; groups <= 200; groups++) {
            for (int chunks = 1; chunks <= Math.min(groups, 16); chunks++) {
                for (boolean shrinking : new boolean[] {false, true}) {
                    assertEquals(0, VectorKernels.chunkStart(groups, chunks, 0, shrinking));
                    assertEquals(groups, VectorKernels.chunkStart(groups, chunks, chunks, shrinking));
                    for (int c = 0; c < chunks; c++) {
                        int size = VectorKernels.chunkStart(groups, chunks, c + 1, shrinking)
                                - VectorKernels.chunkStart(groups, chunks, c, shrinking);
                        assertTrue(size >= 0, groups + " groups, chunk " + c + " of " + chunks);
                        if (!shrinking) assertTrue(Math.abs(size - groups / chunks) <= 1, "equal chunks");
                        if (shrinking && c == chunks - 1) {
                            assertTrue(size <= (groups + chunks - 1) / chunks, "the last chunk is at most an equal share");
                        }
                        if (shrinking && c == 0) assertTrue(size >= groups / chunks, "the first chunk is at least an equal share");
                    }
                }
            }
        }
    }

    @Test
    void f16InfinityIsRefusedAtLoad() {
        short[] bits = DType.F16.narrow(new float[] {1f, 2f, Float.POSITIVE_INFINITY, 4f});
        try (VectorKernels k = new VectorKernels(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.prepare16(bits, DType.F16, 2, 2));
            assertTrue(e.getMessage().contains("infinity or NaN"), e.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void elementwiseKernelsMatchReference(Kernels k) {
        Random rnd = new Random(2);
        for (int n : SIZES) {
            float[] x = random(rnd, n);
            float[] y = random(rnd, n);
            assertEquals(REF.dot(x, 0, y, 0, n), k.dot(x, 0, y, 0, n), 1e-4f * Math.sqrt(n), "dot " + n);
            for (String op : new String[] {"relu", "gelu", "silu", "mul", "add", "softmax"}) {
                float[] e = x.clone();
                float[] a = x.clone();
                apply(REF, op, e, y, n);
                apply(k, op, a, y, n);
                assertClose(e, a, n, 1e-5f, op + " " + n);
            }
            assertEquals(REF.argmax(x, 0, n), k.argmax(x, 0, n), "argmax " + n);
        }
        float[] far = new float[19];                                     // a vector and a tail of large magnitudes
        for (int i = 0; i < far.length; i++) far[i] = (i % 2 == 0 ? -1 : 1) * (float) Math.pow(1.8, i) - 1e-3f;
        float[] e = far.clone();
        REF.silu(e, far.length);
        k.silu(far, far.length);
        assertClose(e, far, far.length, 1e-5f, "silu of large magnitudes");
    }

    private static void apply(Kernels k, String op, float[] x, float[] y, int n) {
        switch (op) {
            case "relu" -> k.relu(x, n);
            case "gelu" -> k.gelu(x, n);
            case "silu" -> k.silu(x, n);
            case "mul" -> k.mul(x, y, n);
            case "add" -> k.add(x, y, n);
            case "softmax" -> k.softmax(x, 0, n);
            default -> throw new IllegalArgumentException(op);
        }
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void normsMatchReference(Kernels k) {
        Random rnd = new Random(3);
        for (int dim : SIZES) {
            int rows = 3;
            float[] x = random(rnd, rows * dim);
            float[] w = random(rnd, dim);
            float[] b = random(rnd, dim);
            float[] e = new float[rows * dim];
            float[] a = new float[rows * dim];
            REF.rmsNorm(e, x, w, rows, dim, 1e-6f);
            k.rmsNorm(a, x, w, rows, dim, 1e-6f);
            assertClose(e, a, rows * dim, 1e-4f, "rmsNorm " + dim);
            REF.layerNorm(e, x, w, b, rows, dim, 1e-5f);
            k.layerNorm(a, x, w, b, rows, dim, 1e-5f);
            assertClose(e, a, rows * dim, 1e-4f, "layerNorm " + dim);
        }
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void embeddingCopiesRows(Kernels k) {
        Random rnd = new Random(4);
        float[] table = random(rnd, 11 * 7);
        int[] ids = {3, 0, 10, 3};
        float[] e = new float[ids.length * 7];
        float[] a = new float[ids.length * 7];
        REF.embedding(e, table, ids, 7);
        k.embedding(a, table, ids, 7);
        assertClose(e, a, e.length, 0f, "embedding");
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void attentionOverCacheMatchesReference(Kernels k) {
        Random rnd = new Random(5);
        for (int headDim : new int[] {1, 7, 16, 33, 64}) {
            int numHeads = 3;
            int stride = numHeads * headDim + 5;           // a wider row than the heads, as under TP slices
            for (int numKeys : new int[] {1, 2, 17, 100}) {
                float[] keys = random(rnd, numKeys * stride);
                float[] values = random(rnd, numKeys * stride);
                float[] q = random(rnd, numHeads * headDim);
                float[] bias = random(rnd, numKeys + 3);
                for (int h = 0; h < numHeads; h++) {
                    float[] e = new float[numHeads * headDim];
                    float[] a = new float[numHeads * headDim];
                    float[] scratch = new float[numKeys];
                    REF.attention(e, h * headDim, q, h * headDim, keys, values, h * headDim, stride, numKeys,
                            headDim, 0.125f, bias, 3, scratch);
                    k.attention(a, h * headDim, q, h * headDim, keys, values, h * headDim, stride, numKeys,
                            headDim, 0.125f, bias, 3, scratch);
                    assertClose(e, a, e.length, 1e-5f, "attention hd=" + headDim + " keys=" + numKeys);
                    REF.attention(e, h * headDim, q, h * headDim, keys, values, h * headDim, stride, numKeys,
                            headDim, 1f, null, 0, scratch);
                    k.attention(a, h * headDim, q, h * headDim, keys, values, h * headDim, stride, numKeys,
                            headDim, 1f, null, 0, scratch);
                    assertClose(e, a, e.length, 1e-5f, "attention no bias hd=" + headDim);
                }
            }
        }
    }
}
