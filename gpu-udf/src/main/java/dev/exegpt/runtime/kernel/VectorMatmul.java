package dev.exegpt.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Blocked matrix multiply with the Vector API: out (m, n) = a (m, k) @ w^T, w prepared once as panels.
 *
 * <p>Layout: w (n, k) is cut into panels of {@link #NR} output columns; panel jp holds, for every p in [0, k), the
 * NR weights w[jp*NR + c][p] contiguously (zero-padded past n). The micro-kernel keeps an (MR x NR) tile of out in
 * registers, broadcasts MR values of a and multiplies them with two vectors of the panel per step of p: 2 loads and
 * MR broadcasts for 2*MR fused multiply-adds, the classic GEMM register tile. The k loop is blocked by {@link #KB}
 * so the a tile stays in L1 while a group of panels streams from L2. Decode (m = 1) streams each panel once,
 * contiguously, which is what a memory-bound step wants.
 */
final class VectorMatmul {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Ints of the same shape: a 16-bit panel row is L ints. */
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(F.vectorBitSize()));
    /** Output columns per panel: two vectors. */
    static final int NR = 2 * L;
    /** Rows of a per register tile. */
    static final int MR = 4;
    /** Depth of a k block. */
    static final int KB = 256;
    /** Up to this many rows of a, a matmul is weight-streaming bound: no k blocking (see multiply). */
    static final int SMALL_M = 16;
    /** Panels per L2 block. */
    static final int PANELS_PER_BLOCK = 4;

    private VectorMatmul() {}

    static int numPanels(int rows) {
        return (rows + NR - 1) / NR;
    }

    /**
     * Panels that a product of m rows in the given layout takes together below {@link #MR} rows (four BF16 panels, two
     * f32 ones, one F16: see the tile1Quad, tile1Pair and tile1F16 kernels); a thread's chunk of panels starts at a
     * multiple of it.
     */
    static int panelGroup(int m, Matrix.Layout layout) {
        if (m >= MR) return 1;
        return switch (layout) {
            case PANELS_BF16 -> 4;
            case PANELS_F16 -> 1;
            default -> 2;
        };
    }

    /** Groups of {@link #panelGroup} panels over n outputs (the last may be partial). */
    static int numPanelGroups(int n, int m, Matrix.Layout layout) {
        int group = panelGroup(m, layout);
        return (numPanels(n) + group - 1) / group;
    }

    /** Packs w (rows, cols) into panels (see the class comment). */
    static float[] pack(float[] w, int rows, int cols) {
        float[] packed = new float[numPanels(rows) * cols * NR];
        for (int j = 0; j < rows; j++) {
            int panelBase = (j / NR) * cols * NR + j % NR;
            for (int p = 0; p < cols; p++) packed[panelBase + p * NR] = w[j * cols + p];
        }
        return packed;
    }

    /** Computes panels [jp0, jp1) of out (m, n) = a (m, k) @ w^T + bias; one thread. */
    static void multiply(float[] out, float[] a, float[] packed, float[] bias, int m, int k, int n, int jp0, int jp1) {
        initialise(out, bias, m, n, jp0 * NR, Math.min(n, jp1 * NR));
        if (m < MR) {                                     // decode of a few sequences: four streams per thread
            for (int i = 0; i < m; i++) {
                int jp = jp0;
                for (; jp + 1 < jp1 && (jp + 2) * NR <= n; jp += 2) tile1Pair(out, i * n + jp * NR, a, packed, k, i, jp);
                for (; jp < jp1; jp++) {
                    if ((jp + 1) * NR <= n) tile1(out, i * n + jp * NR, a, packed, k, i, jp * k * NR, 0, k);
                    else tile1Edge(out, a, packed, k, n, i, jp, jp * k * NR, 0, k);
                }
            }
            return;
        }
        // Few rows (decode): stream each panel once from memory and keep it in L2 for all row tiles.
        boolean fewRows = m <= SMALL_M;
        int kb = fewRows ? k : KB;
        int panelsPerBlock = fewRows ? 1 : PANELS_PER_BLOCK;
        for (int p0 = 0; p0 < k; p0 += kb) {
            int p1 = Math.min(k, p0 + kb);
            for (int jb = jp0; jb < jp1; jb += panelsPerBlock) {
                block(out, a, packed, 0, m, k, n, jb, Math.min(jp1, jb + panelsPerBlock), p0, p1);
            }
        }
    }

    /**
     * As {@link #multiply} for 16-bit panels (see {@link Matrix.Layout#PANELS_BF16}): with fewer than {@link #MR} rows
     * the weights are widened in registers as they stream; with more, each block of panels is widened once into the
     * thread's scratch and shared by all row tiles, so the widening costs one pass per block, not one per row.
     */
    static void multiply16(float[] out, float[] a, int[] pairs, boolean bf16, float[] bias, int m, int k, int n,
                           int jp0, int jp1) {
        initialise(out, bias, m, n, jp0 * NR, Math.min(n, jp1 * NR));
        if (m < MR) {
            for (int i = 0; i < m; i++) {
                int jp = jp0;
                if (bf16) {
                    for (; jp + 3 < jp1 && (jp + 4) * NR <= n; jp += 4) tile1QuadBf16(out, i * n + jp * NR, a, pairs, k, i, jp);
                    for (; jp + 1 < jp1 && (jp + 2) * NR <= n; jp += 2) tile1PairBf16(out, i * n + jp * NR, a, pairs, k, i, jp);
                }
                for (; jp < jp1; jp++) {
                    if ((jp + 1) * NR > n) tile1Edge16(out, a, pairs, bf16, k, n, i, jp);
                    else if (bf16) tile1Bf16(out, i * n + jp * NR, a, pairs, k, i, jp);
                    else tile1F16(out, i * n + jp * NR, a, pairs, k, i, jp);
                }
            }
            return;
        }
        if (m <= SMALL_M) {                               // a few rows: widen in registers, each panel read once
            for (int jp = jp0; jp < jp1; jp++) {
                if ((jp + 1) * NR > n) {
                    for (int i = 0; i < m; i++) tile1Edge16(out, a, pairs, bf16, k, n, i, jp);
                    continue;
                }
                int i = 0;
                for (; i + MR <= m; i += MR) {
                    if (bf16) tile4Bf16(out, i * n + jp * NR, n, a, pairs, k, i, jp);
                    else tile4F16(out, i * n + jp * NR, n, a, pairs, k, i, jp);
                }
                for (; i < m; i++) {
                    if (bf16) tile1Bf16(out, i * n + jp * NR, a, pairs, k, i, jp);
                    else tile1F16(out, i * n + jp * NR, a, pairs, k, i, jp);
                }
            }
            return;
        }
        boolean fewRows = m <= SMALL_M;
        int kb = fewRows ? k : KB;
        int panelsPerBlock = fewRows ? 1 : PANELS_PER_BLOCK;
        float[] scratch = scratch(panelsPerBlock * k * NR);
        for (int p0 = 0; p0 < k; p0 += kb) {
            int p1 = Math.min(k, p0 + kb);
            for (int jb = jp0; jb < jp1; jb += panelsPerBlock) {
                int jbEnd = Math.min(jp1, jb + panelsPerBlock);
                for (int jp = jb; jp < jbEnd; jp++) widen(pairs, bf16, k, jp, p0, p1, scratch, (jp - jb) * k * NR);
                block(out, a, scratch, jb, m, k, n, jb, jbEnd, p0, p1);
            }
        }
    }

    /**
     * Rows [0, m) of out against panels [jb, jbEnd) over p in [p0, p1); panel jp's weights start at
     * packed[(jp - shift) * k * NR] (shift 0 for a packed matrix, the block's first panel for a widened block).
     */
    private static void block(float[] out, float[] a, float[] packed, int shift, int m, int k, int n, int jb,
                              int jbEnd, int p0, int p1) {
        int i = 0;
        for (; i + 2 * MR <= m; i += 2 * MR) {            // 8 rows per pass: each panel row is loaded once for 16 FMAs
            for (int jp = jb; jp < jbEnd; jp++) {
                int base = (jp - shift) * k * NR;
                if ((jp + 1) * NR <= n) {
                    tile8(out, a, packed, k, n, i, jp, base, p0, p1);
                } else {
                    tile4Edge(out, a, packed, k, n, i, jp, base, p0, p1);
                    tile4Edge(out, a, packed, k, n, i + MR, jp, base, p0, p1);
                }
            }
        }
        for (; i + MR <= m; i += MR) {
            for (int jp = jb; jp < jbEnd; jp++) {
                int base = (jp - shift) * k * NR;
                if ((jp + 1) * NR <= n) tile4(out, i * n + jp * NR, n, a, packed, k, i, base, p0, p1);
                else tile4Edge(out, a, packed, k, n, i, jp, base, p0, p1);
            }
        }
        for (; i < m; i++) {
            for (int jp = jb; jp < jbEnd; jp++) {
                int base = (jp - shift) * k * NR;
                if ((jp + 1) * NR <= n) tile1(out, i * n + jp * NR, a, packed, k, i, base, p0, p1);
                else tile1Edge(out, a, packed, k, n, i, jp, base, p0, p1);
            }
        }
    }

    private static void initialise(float[] out, float[] bias, int m, int n, int j0, int j1) {
        for (int i = 0; i < m; i++) {
            for (int j = j0; j < j1; j++) out[i * n + j] = bias == null ? 0f : bias[j];
        }
    }

    /** out[i..i+8)[jp*NR ..) += a[i..i+8)[p0..p1) @ panel jp: 16 accumulators, each panel row loaded once. */
    private static void tile8(float[] out, float[] a, float[] packed, int k, int n, int i, int jp, int base, int p0,
                              int p1) {
        int j = jp * NR;
        int o = i * n + j;
        FloatVector c00 = FloatVector.fromArray(F, out, o), c01 = FloatVector.fromArray(F, out, o + L);
        FloatVector c10 = FloatVector.fromArray(F, out, o + n), c11 = FloatVector.fromArray(F, out, o + n + L);
        FloatVector c20 = FloatVector.fromArray(F, out, o + 2 * n), c21 = FloatVector.fromArray(F, out, o + 2 * n + L);
        FloatVector c30 = FloatVector.fromArray(F, out, o + 3 * n), c31 = FloatVector.fromArray(F, out, o + 3 * n + L);
        FloatVector c40 = FloatVector.fromArray(F, out, o + 4 * n), c41 = FloatVector.fromArray(F, out, o + 4 * n + L);
        FloatVector c50 = FloatVector.fromArray(F, out, o + 5 * n), c51 = FloatVector.fromArray(F, out, o + 5 * n + L);
        FloatVector c60 = FloatVector.fromArray(F, out, o + 6 * n), c61 = FloatVector.fromArray(F, out, o + 6 * n + L);
        FloatVector c70 = FloatVector.fromArray(F, out, o + 7 * n), c71 = FloatVector.fromArray(F, out, o + 7 * n + L);
        int a0 = i * k;
        int b = base + p0 * NR;
        for (int p = p0; p < p1; p++, b += NR) {
            FloatVector w0 = FloatVector.fromArray(F, packed, b);
            FloatVector w1 = FloatVector.fromArray(F, packed, b + L);
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            c00 = x.fma(w0, c00);
            c01 = x.fma(w1, c01);
            x = FloatVector.broadcast(F, a[a0 + k + p]);
            c10 = x.fma(w0, c10);
            c11 = x.fma(w1, c11);
            x = FloatVector.broadcast(F, a[a0 + 2 * k + p]);
            c20 = x.fma(w0, c20);
            c21 = x.fma(w1, c21);
            x = FloatVector.broadcast(F, a[a0 + 3 * k + p]);
            c30 = x.fma(w0, c30);
            c31 = x.fma(w1, c31);
            x = FloatVector.broadcast(F, a[a0 + 4 * k + p]);
            c40 = x.fma(w0, c40);
            c41 = x.fma(w1, c41);
            x = FloatVector.broadcast(F, a[a0 + 5 * k + p]);
            c50 = x.fma(w0, c50);
            c51 = x.fma(w1, c51);
            x = FloatVector.broadcast(F, a[a0 + 6 * k + p]);
            c60 = x.fma(w0, c60);
            c61 = x.fma(w1, c61);
            x = FloatVector.broadcast(F, a[a0 + 7 * k + p]);
            c70 = x.fma(w0, c70);
            c71 = x.fma(w1, c71);
        }
        c00.intoArray(out, o);
        c01.intoArray(out, o + L);
        c10.intoArray(out, o + n);
        c11.intoArray(out, o + n + L);
        c20.intoArray(out, o + 2 * n);
        c21.intoArray(out, o + 2 * n + L);
        c30.intoArray(out, o + 3 * n);
        c31.intoArray(out, o + 3 * n + L);
        c40.intoArray(out, o + 4 * n);
        c41.intoArray(out, o + 4 * n + L);
        c50.intoArray(out, o + 5 * n);
        c51.intoArray(out, o + 5 * n + L);
        c60.intoArray(out, o + 6 * n);
        c61.intoArray(out, o + 6 * n + L);
        c70.intoArray(out, o + 7 * n);
        c71.intoArray(out, o + 7 * n + L);
    }

    /** The (4, NR) tile at out[o], rows {@code stride} apart, += a[i..i+4)[p0..p1) @ the panel at packed[base] rows p0..p1. */
    private static void tile4(float[] out, int o, int stride, float[] a, float[] packed, int k, int i, int base, int p0,
                              int p1) {
        FloatVector c00 = FloatVector.fromArray(F, out, o);
        FloatVector c01 = FloatVector.fromArray(F, out, o + L);
        FloatVector c10 = FloatVector.fromArray(F, out, o + stride);
        FloatVector c11 = FloatVector.fromArray(F, out, o + stride + L);
        FloatVector c20 = FloatVector.fromArray(F, out, o + 2 * stride);
        FloatVector c21 = FloatVector.fromArray(F, out, o + 2 * stride + L);
        FloatVector c30 = FloatVector.fromArray(F, out, o + 3 * stride);
        FloatVector c31 = FloatVector.fromArray(F, out, o + 3 * stride + L);
        int a0 = i * k;
        int a1 = a0 + k;
        int a2 = a1 + k;
        int a3 = a2 + k;
        int b = base + p0 * NR;
        for (int p = p0; p < p1; p++, b += NR) {
            FloatVector w0 = FloatVector.fromArray(F, packed, b);
            FloatVector w1 = FloatVector.fromArray(F, packed, b + L);
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            c00 = x.fma(w0, c00);
            c01 = x.fma(w1, c01);
            x = FloatVector.broadcast(F, a[a1 + p]);
            c10 = x.fma(w0, c10);
            c11 = x.fma(w1, c11);
            x = FloatVector.broadcast(F, a[a2 + p]);
            c20 = x.fma(w0, c20);
            c21 = x.fma(w1, c21);
            x = FloatVector.broadcast(F, a[a3 + p]);
            c30 = x.fma(w0, c30);
            c31 = x.fma(w1, c31);
        }
        c00.intoArray(out, o);
        c01.intoArray(out, o + L);
        c10.intoArray(out, o + stride);
        c11.intoArray(out, o + stride + L);
        c20.intoArray(out, o + 2 * stride);
        c21.intoArray(out, o + 2 * stride + L);
        c30.intoArray(out, o + 3 * stride);
        c31.intoArray(out, o + 3 * stride + L);
    }

    /**
     * As tile4 for the last, partial panel, through a padded copy of the tile. No masked loads: on JDK 17 a masked
     * load or store near the end of an array takes a scalar path that boxes every vector of the inlined kernel
     * (measured: allocation in the GBs per second in the engine's attention, where the key count is rarely a
     * multiple of NR, and decode steps up to 1.6x slower, depending on how the JIT compiled the kernel that run).
     */
    private static void tile4Edge(float[] out, float[] a, float[] packed, int k, int n, int i, int jp, int base, int p0,
                                  int p1) {
        int j = jp * NR;
        int cols = n - j;
        float[] tile = new float[MR * NR];
        for (int r = 0; r < MR; r++) System.arraycopy(out, (i + r) * n + j, tile, r * NR, cols);
        tile4(tile, 0, NR, a, packed, k, i, base, p0, p1);
        for (int r = 0; r < MR; r++) System.arraycopy(tile, r * NR, out, (i + r) * n + j, cols);
    }

    /** As tile1 for the last, partial panel, through a padded copy of the tile (see tile4Edge). */
    private static void tile1Edge(float[] out, float[] a, float[] packed, int k, int n, int i, int jp, int base, int p0,
                                  int p1) {
        int j = jp * NR;
        int cols = n - j;
        float[] tile = EDGE_TILE.get();
        System.arraycopy(out, i * n + j, tile, 0, cols);
        tile1(tile, 0, a, packed, k, i, base, p0, p1);
        System.arraycopy(tile, 0, out, i * n + j, cols);
    }

    /** The (1, NR) tile at out[o] += a[i][p0..p1) @ the panel at packed[base] rows p0..p1; two accumulators per vector column hide the FMA latency. */
    private static void tile1(float[] out, int o, float[] a, float[] packed, int k, int i, int base, int p0, int p1) {
        FloatVector c0 = FloatVector.fromArray(F, out, o);
        FloatVector c1 = FloatVector.fromArray(F, out, o + L);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        int a0 = i * k;
        int b = base + p0 * NR;
        int p = p0;
        for (; p + 1 < p1; p += 2, b += 2 * NR) {
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            c0 = x.fma(FloatVector.fromArray(F, packed, b), c0);
            c1 = x.fma(FloatVector.fromArray(F, packed, b + L), c1);
            FloatVector y = FloatVector.broadcast(F, a[a0 + p + 1]);
            d0 = y.fma(FloatVector.fromArray(F, packed, b + NR), d0);
            d1 = y.fma(FloatVector.fromArray(F, packed, b + NR + L), d1);
        }
        if (p < p1) {
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            c0 = x.fma(FloatVector.fromArray(F, packed, b), c0);
            c1 = x.fma(FloatVector.fromArray(F, packed, b + L), c1);
        }
        c0.add(d0).intoArray(out, o);
        c1.add(d1).intoArray(out, o + L);
    }

    // Pair kernels: two adjacent panels, each read from both ends of its k range at once, so that one thread keeps four
    // sequential streams in flight. A batch-1 product streamed 14% faster than with one stream per panel (3072 x 768,
    // f32, median over 25 rounds: 58.0 against 50.7 GB/s on 2 threads, 29.9 against 26.2 on one).

    /** out[o .. o + 2 NR) += a[i] @ the full panels jp and jp + 1 (f32). */
    private static void tile1Pair(float[] out, int o, float[] a, float[] packed, int k, int i, int jp) {
        FloatVector c0 = FloatVector.fromArray(F, out, o), c1 = FloatVector.fromArray(F, out, o + L);
        FloatVector e0 = FloatVector.fromArray(F, out, o + NR), e1 = FloatVector.fromArray(F, out, o + NR + L);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), f0 = FloatVector.zero(F), f1 = FloatVector.zero(F);
        int h = k / 2;
        int a0 = i * k;
        int b = jp * k * NR;
        int g = b + k * NR;
        for (int p = 0; p < h; p++) {
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            FloatVector y = FloatVector.broadcast(F, a[a0 + h + p]);
            int lo = p * NR;
            int hi = (h + p) * NR;
            c0 = x.fma(FloatVector.fromArray(F, packed, b + lo), c0);
            c1 = x.fma(FloatVector.fromArray(F, packed, b + lo + L), c1);
            d0 = y.fma(FloatVector.fromArray(F, packed, b + hi), d0);
            d1 = y.fma(FloatVector.fromArray(F, packed, b + hi + L), d1);
            e0 = x.fma(FloatVector.fromArray(F, packed, g + lo), e0);
            e1 = x.fma(FloatVector.fromArray(F, packed, g + lo + L), e1);
            f0 = y.fma(FloatVector.fromArray(F, packed, g + hi), f0);
            f1 = y.fma(FloatVector.fromArray(F, packed, g + hi + L), f1);
        }
        if ((k & 1) == 1) {                               // odd k: the last row of each panel
            FloatVector x = FloatVector.broadcast(F, a[a0 + k - 1]);
            int last = (k - 1) * NR;
            c0 = x.fma(FloatVector.fromArray(F, packed, b + last), c0);
            c1 = x.fma(FloatVector.fromArray(F, packed, b + last + L), c1);
            e0 = x.fma(FloatVector.fromArray(F, packed, g + last), e0);
            e1 = x.fma(FloatVector.fromArray(F, packed, g + last + L), e1);
        }
        c0.add(d0).intoArray(out, o);
        c1.add(d1).intoArray(out, o + L);
        e0.add(f0).intoArray(out, o + NR);
        e1.add(f1).intoArray(out, o + NR + L);
    }

    // Quad kernels: four adjacent 16-bit panels, one stream each. A 16-bit panel row is one vector (half of an f32
    // panel row), so the pair kernels' four streams each brought half the bytes per step; four whole panels per loop
    // keep as many bytes in flight as the f32 pair kernel does. Measured, batch 1 on one thread, median of 30 rounds:
    // 768 x 768 BF16 23.7 -> 27.0 GB/s, 3072 x 768 25.8 -> 29.0 (f32 28-29); on 2 threads through VectorKernels the
    // BF16 products then ran 1.8-2.3x as fast as f32 (1.6-1.9x before). Eight panels per loop ran at a third of
    // that: C2 no longer kept the vectors in registers. So did the F16 quad and pair kernels (see tile1F16).

    /** out[o .. o + 4 NR) += a[i] @ the full bfloat16 panels jp .. jp + 3, one stream per panel. */
    private static void tile1QuadBf16(float[] out, int o, float[] a, int[] pairs, int k, int i, int jp) {
        FloatVector c0 = FloatVector.fromArray(F, out, o), c1 = FloatVector.fromArray(F, out, o + L);
        FloatVector d0 = FloatVector.fromArray(F, out, o + NR), d1 = FloatVector.fromArray(F, out, o + NR + L);
        FloatVector e0 = FloatVector.fromArray(F, out, o + 2 * NR), e1 = FloatVector.fromArray(F, out, o + 2 * NR + L);
        FloatVector f0 = FloatVector.fromArray(F, out, o + 3 * NR), f1 = FloatVector.fromArray(F, out, o + 3 * NR + L);
        int a0 = i * k;
        int s = k * L;
        int b = jp * s;
        for (int p = 0; p < k; p++, b += L) {
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            IntVector u = IntVector.fromArray(I, pairs, b);
            IntVector v = IntVector.fromArray(I, pairs, b + s);
            IntVector w = IntVector.fromArray(I, pairs, b + 2 * s);
            IntVector z = IntVector.fromArray(I, pairs, b + 3 * s);
            c0 = x.fma(lowBf16(u), c0);
            c1 = x.fma(highBf16(u), c1);
            d0 = x.fma(lowBf16(v), d0);
            d1 = x.fma(highBf16(v), d1);
            e0 = x.fma(lowBf16(w), e0);
            e1 = x.fma(highBf16(w), e1);
            f0 = x.fma(lowBf16(z), f0);
            f1 = x.fma(highBf16(z), f1);
        }
        c0.intoArray(out, o);
        c1.intoArray(out, o + L);
        d0.intoArray(out, o + NR);
        d1.intoArray(out, o + NR + L);
        e0.intoArray(out, o + 2 * NR);
        e1.intoArray(out, o + 2 * NR + L);
        f0.intoArray(out, o + 3 * NR);
        f1.intoArray(out, o + 3 * NR + L);
    }

    /** As tile1Pair over bfloat16 panels jp and jp + 1. */
    private static void tile1PairBf16(float[] out, int o, float[] a, int[] pairs, int k, int i, int jp) {
        FloatVector c0 = FloatVector.fromArray(F, out, o), c1 = FloatVector.fromArray(F, out, o + L);
        FloatVector e0 = FloatVector.fromArray(F, out, o + NR), e1 = FloatVector.fromArray(F, out, o + NR + L);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), f0 = FloatVector.zero(F), f1 = FloatVector.zero(F);
        int h = k / 2;
        int a0 = i * k;
        int b = jp * k * L;
        int g = b + k * L;
        for (int p = 0; p < h; p++) {
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            FloatVector y = FloatVector.broadcast(F, a[a0 + h + p]);
            IntVector u = IntVector.fromArray(I, pairs, b + p * L);
            IntVector v = IntVector.fromArray(I, pairs, b + (h + p) * L);
            IntVector w = IntVector.fromArray(I, pairs, g + p * L);
            IntVector z = IntVector.fromArray(I, pairs, g + (h + p) * L);
            c0 = x.fma(lowBf16(u), c0);
            c1 = x.fma(highBf16(u), c1);
            d0 = y.fma(lowBf16(v), d0);
            d1 = y.fma(highBf16(v), d1);
            e0 = x.fma(lowBf16(w), e0);
            e1 = x.fma(highBf16(w), e1);
            f0 = y.fma(lowBf16(z), f0);
            f1 = y.fma(highBf16(z), f1);
        }
        if ((k & 1) == 1) {
            FloatVector x = FloatVector.broadcast(F, a[a0 + k - 1]);
            IntVector u = IntVector.fromArray(I, pairs, b + (k - 1) * L);
            IntVector w = IntVector.fromArray(I, pairs, g + (k - 1) * L);
            c0 = x.fma(lowBf16(u), c0);
            c1 = x.fma(highBf16(u), c1);
            e0 = x.fma(lowBf16(w), e0);
            e1 = x.fma(highBf16(w), e1);
        }
        c0.add(d0).intoArray(out, o);
        c1.add(d1).intoArray(out, o + L);
        e0.add(f0).intoArray(out, o + NR);
        e1.add(f1).intoArray(out, o + NR + L);
    }

    /** Panels of w (rows, cols) in 16 bits, two values per int (see {@link Matrix.Layout#PANELS_BF16}). */
    static int[] pack16(short[] w, int rows, int cols, boolean f16) {
        int[] pairs = new int[numPanels(rows) * cols * L];
        for (int j = 0; j < rows; j++) {
            int c = j % NR;
            int shift = c < L ? 0 : 16;
            int base = (j / NR) * cols * L + c % L;
            for (int p = 0; p < cols; p++) {
                int v = w[j * cols + p] & 0xffff;
                if (f16 && (v & 0x7c00) == 0x7c00) {
                    throw new IllegalArgumentException("F16 weight (" + j + ", " + p + ") of a (" + rows + ", " + cols
                            + ") matrix is an infinity or NaN");
                }
                pairs[base + p * L] |= v << shift;
            }
        }
        return pairs;
    }

    /** bfloat16 in the low halves of v, as floats: the upper half of an f32. */
    private static FloatVector lowBf16(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector highBf16(IntVector v) {
        return v.and(0xFFFF0000).reinterpretAsFloats();
    }

    /**
     * IEEE halves in the low halves of v, as floats: exponent and mantissa moved into an f32's bits and scaled by
     * 2^112 (which rebiases the exponent and makes subnormal halves exact), the sign put back.
     */
    private static FloatVector lowF16(IntVector v) {
        FloatVector magnitude = v.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(0x1p112f);
        return v.lanewise(VectorOperators.LSHL, 16).and(0x80000000).or(magnitude.reinterpretAsInts()).reinterpretAsFloats();
    }

    private static FloatVector highF16(IntVector v) {
        FloatVector magnitude = v.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(0x1p112f);
        return v.and(0x80000000).or(magnitude.reinterpretAsInts()).reinterpretAsFloats();
    }

    // The two 16-bit tile1 kernels are written out, not chosen by a flag inside the loop: with the choice inside, C2
    // kept the vectors in memory and a batch-1 product ran at a fifth of the f32 kernel's speed (measured on JDK 17).

    /**
     * The (MR, NR) tile of out at o (row stride stride) += a[i .. i + MR) @ the whole bfloat16 panel jp, widened in
     * registers: each panel row is loaded once for the four rows. Before it, 4-16 rows widened each panel into scratch
     * first and ran the f32 tile on it: BF16 at 4 rows took longer than at 3 (2048 x 512, one thread: 292 against 177
     * us; f32 306) and a BF16 decode at batch 8 was no faster than f32's.
     */
    private static void tile4Bf16(float[] out, int o, int stride, float[] a, int[] pairs, int k, int i, int jp) {
        FloatVector c00 = FloatVector.fromArray(F, out, o);
        FloatVector c01 = FloatVector.fromArray(F, out, o + L);
        FloatVector c10 = FloatVector.fromArray(F, out, o + stride);
        FloatVector c11 = FloatVector.fromArray(F, out, o + stride + L);
        FloatVector c20 = FloatVector.fromArray(F, out, o + 2 * stride);
        FloatVector c21 = FloatVector.fromArray(F, out, o + 2 * stride + L);
        FloatVector c30 = FloatVector.fromArray(F, out, o + 3 * stride);
        FloatVector c31 = FloatVector.fromArray(F, out, o + 3 * stride + L);
        int a0 = i * k;
        int a1 = a0 + k;
        int a2 = a1 + k;
        int a3 = a2 + k;
        int b = jp * k * L;
        for (int p = 0; p < k; p++, b += L) {
            IntVector u = IntVector.fromArray(I, pairs, b);
            FloatVector w0 = lowBf16(u);
            FloatVector w1 = highBf16(u);
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            c00 = x.fma(w0, c00);
            c01 = x.fma(w1, c01);
            x = FloatVector.broadcast(F, a[a1 + p]);
            c10 = x.fma(w0, c10);
            c11 = x.fma(w1, c11);
            x = FloatVector.broadcast(F, a[a2 + p]);
            c20 = x.fma(w0, c20);
            c21 = x.fma(w1, c21);
            x = FloatVector.broadcast(F, a[a3 + p]);
            c30 = x.fma(w0, c30);
            c31 = x.fma(w1, c31);
        }
        c00.intoArray(out, o);
        c01.intoArray(out, o + L);
        c10.intoArray(out, o + stride);
        c11.intoArray(out, o + stride + L);
        c20.intoArray(out, o + 2 * stride);
        c21.intoArray(out, o + 2 * stride + L);
        c30.intoArray(out, o + 3 * stride);
        c31.intoArray(out, o + 3 * stride + L);
    }

    /** As tile4Bf16 over a whole IEEE-half panel jp (the conversion of lowF16 / highF16, once per panel row). */
    private static void tile4F16(float[] out, int o, int stride, float[] a, int[] pairs, int k, int i, int jp) {
        FloatVector c00 = FloatVector.fromArray(F, out, o);
        FloatVector c01 = FloatVector.fromArray(F, out, o + L);
        FloatVector c10 = FloatVector.fromArray(F, out, o + stride);
        FloatVector c11 = FloatVector.fromArray(F, out, o + stride + L);
        FloatVector c20 = FloatVector.fromArray(F, out, o + 2 * stride);
        FloatVector c21 = FloatVector.fromArray(F, out, o + 2 * stride + L);
        FloatVector c30 = FloatVector.fromArray(F, out, o + 3 * stride);
        FloatVector c31 = FloatVector.fromArray(F, out, o + 3 * stride + L);
        int a0 = i * k;
        int a1 = a0 + k;
        int a2 = a1 + k;
        int a3 = a2 + k;
        int b = jp * k * L;
        for (int p = 0; p < k; p++, b += L) {
            IntVector u = IntVector.fromArray(I, pairs, b);
            FloatVector w0 = lowF16(u);
            FloatVector w1 = highF16(u);
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            c00 = x.fma(w0, c00);
            c01 = x.fma(w1, c01);
            x = FloatVector.broadcast(F, a[a1 + p]);
            c10 = x.fma(w0, c10);
            c11 = x.fma(w1, c11);
            x = FloatVector.broadcast(F, a[a2 + p]);
            c20 = x.fma(w0, c20);
            c21 = x.fma(w1, c21);
            x = FloatVector.broadcast(F, a[a3 + p]);
            c30 = x.fma(w0, c30);
            c31 = x.fma(w1, c31);
        }
        c00.intoArray(out, o);
        c01.intoArray(out, o + L);
        c10.intoArray(out, o + stride);
        c11.intoArray(out, o + stride + L);
        c20.intoArray(out, o + 2 * stride);
        c21.intoArray(out, o + 2 * stride + L);
        c30.intoArray(out, o + 3 * stride);
        c31.intoArray(out, o + 3 * stride + L);
    }

    /** As tile1 over a whole bfloat16 panel jp. */
    private static void tile1Bf16(float[] out, int o, float[] a, int[] pairs, int k, int i, int jp) {
        FloatVector c0 = FloatVector.fromArray(F, out, o);
        FloatVector c1 = FloatVector.fromArray(F, out, o + L);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        int a0 = i * k;
        int b = jp * k * L;
        int p = 0;
        for (; p + 1 < k; p += 2, b += 2 * L) {
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            IntVector v = IntVector.fromArray(I, pairs, b);
            c0 = x.fma(lowBf16(v), c0);
            c1 = x.fma(highBf16(v), c1);
            FloatVector y = FloatVector.broadcast(F, a[a0 + p + 1]);
            IntVector u = IntVector.fromArray(I, pairs, b + L);
            d0 = y.fma(lowBf16(u), d0);
            d1 = y.fma(highBf16(u), d1);
        }
        if (p < k) {
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            IntVector v = IntVector.fromArray(I, pairs, b);
            c0 = x.fma(lowBf16(v), c0);
            c1 = x.fma(highBf16(v), c1);
        }
        c0.add(d0).intoArray(out, o);
        c1.add(d1).intoArray(out, o + L);
    }

    /**
     * As tile1 over a whole IEEE-half panel jp, one panel row per loop: the F16 widening takes three times BF16's
     * operations, and any larger loop body (two rows, or the pair and quad kernels) was more than C2 inlined, so its
     * vectors were boxed: 2-5 GB/s and hundreds of MB of garbage a step. This one streams 23-25 GB/s on one thread
     * (batch 1, 768-3072 x 768-3072; BF16's quad kernel 27-30).
     */
    private static void tile1F16(float[] out, int o, float[] a, int[] pairs, int k, int i, int jp) {
        FloatVector c0 = FloatVector.fromArray(F, out, o);
        FloatVector c1 = FloatVector.fromArray(F, out, o + L);
        int a0 = i * k;
        int b = jp * k * L;
        for (int p = 0; p < k; p++, b += L) {
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            IntVector v = IntVector.fromArray(I, pairs, b);
            c0 = x.fma(lowF16(v), c0);
            c1 = x.fma(highF16(v), c1);
        }
        c0.intoArray(out, o);
        c1.intoArray(out, o + L);
    }

    /** Rows [p0, p1) of 16-bit panel jp, widened into f32 panel layout at scratch[dst + p * NR]. */
    private static void widen(int[] pairs, boolean bf16, int k, int jp, int p0, int p1, float[] scratch, int dst) {
        int b = (jp * k + p0) * L;
        int o = dst + p0 * NR;
        if (bf16) {
            for (int p = p0; p < p1; p++, b += L, o += NR) {
                IntVector v = IntVector.fromArray(I, pairs, b);
                lowBf16(v).intoArray(scratch, o);
                highBf16(v).intoArray(scratch, o + L);
            }
        } else {
            for (int p = p0; p < p1; p++, b += L, o += NR) {
                IntVector v = IntVector.fromArray(I, pairs, b);
                lowF16(v).intoArray(scratch, o);
                highF16(v).intoArray(scratch, o + L);
            }
        }
    }

    /** A whole 16-bit panel widened into this thread's scratch (the last, partial panel of a product of few rows). */
    /**
     * As tile1Bf16 / tile1F16 for the last, partial 16-bit panel (zero-padded past n at packing), through a tile of
     * this thread's. It used to widen the panel into scratch first: a JVM that then decoded F16 at batch 8 ran its
     * widening loop with boxed vectors (30-150 ms and 0.3-2 GB of garbage a step in bench-kernels; a JVM that never
     * decoded at batch 1 in between did not).
     */
    private static void tile1Edge16(float[] out, float[] a, int[] pairs, boolean bf16, int k, int n, int i, int jp) {
        int j = jp * NR;
        int cols = n - j;
        float[] tile = EDGE_TILE.get();                    // its columns past n are computed and dropped
        System.arraycopy(out, i * n + j, tile, 0, cols);
        if (bf16) tile1Bf16(tile, 0, a, pairs, k, i, jp);
        else tile1F16(tile, 0, a, pairs, k, i, jp);
        System.arraycopy(tile, 0, out, i * n + j, cols);
    }

    private static final ThreadLocal<float[]> EDGE_TILE = ThreadLocal.withInitial(() -> new float[NR]);

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    /** This thread's scratch of at least floats floats (kept and grown, never shrunk). */
    private static float[] scratch(int floats) {
        float[] s = SCRATCH.get();
        if (s.length < floats) {
            s = new float[floats];
            SCRATCH.set(s);
        }
        return s;
    }
}
