package dev.exegpt.runtime.profile;

import static dev.exegpt.runtime.Require.require;

import java.util.List;

/**
 * What XProfiler measures (PAPER.md §3: the grid values are not given by the paper; these are our choice, sized so
 * that the small model profiles in well under two minutes on two cores).
 *
 * @param tpDegrees tensor-parallel degrees to measure
 * @param encodeBatchSizes batch sizes of encode steps
 * @param encodeSeqLengths input lengths of encode steps (each capped at the model's longest prompt); the defaults reach
 *     512, the longest prompt of the paper's tasks S and T, because a CPU's encode cost turns steeply convex there
 *     (T5-small, two cores: one layer over 1 x 256 tokens 9-15 ms, over 1 x 511 24-33 ms) and a profile that
 *     stops at 256 extrapolates it as a straight line
 * @param maxEncodeTokens encode steps above batch x length = this are skipped (8192 by default, so that 16 x 512 is
 *     measured: above the grid the cost is extrapolated as a straight line, and on a CPU it bends upwards)
 * @param decodeBatchSizes batch sizes of decode steps
 * @param decodeContextLengths tokens already cached at a decode step
 * @param warmups untimed runs before the repeats
 * @param repeats timed runs; the entry keeps the median, min and max
 * @param jitWarmUpMs untimed running of every code path per TP degree before the grid, so the JIT has compiled it
 *     (15 s by default: the prefill attention's fast code takes ~12 s of long steps to arrive on this CPU)
 * @param threadsPerDevice kernel threads of each simulated device; 0 = as the engine sizes them by default, the
 *     machine's cores divided by the TP degree (a profile must time the kernels the engine will run: one thread
 *     instead of the engine's two made T5-small encodes on two cores 30-65% slower than the engine ran them)
 */
public record ProfileGrid(List<Integer> tpDegrees, List<Integer> encodeBatchSizes, List<Integer> encodeSeqLengths,
                          int maxEncodeTokens, List<Integer> decodeBatchSizes, List<Integer> decodeContextLengths,
                          int warmups, int repeats, long jitWarmUpMs, int threadsPerDevice) {

    public static final ProfileGrid DEFAULTS = new ProfileGrid(List.of(1, 2), List.of(1, 4, 16), List.of(16, 64, 256, 512),
            8192, List.of(1, 8, 32, 64), List.of(16, 64, 256), 2, 5, 15000, 0);

    /** A grid whose devices use the engine's default threads (see {@code threadsPerDevice}). */
    public ProfileGrid(List<Integer> tpDegrees, List<Integer> encodeBatchSizes, List<Integer> encodeSeqLengths,
                       int maxEncodeTokens, List<Integer> decodeBatchSizes, List<Integer> decodeContextLengths,
                       int warmups, int repeats, long jitWarmUpMs) {
        this(tpDegrees, encodeBatchSizes, encodeSeqLengths, maxEncodeTokens, decodeBatchSizes, decodeContextLengths,
                warmups, repeats, jitWarmUpMs, 0);
    }

    public ProfileGrid {
        require(!tpDegrees.isEmpty(), "tpDegrees: at least one degree");
        for (int d : tpDegrees) require(d >= 1, "tp degree %s: must be at least 1", d);
        require(repeats >= 1, "repeats=%s: must be at least 1", repeats);
        require(warmups >= 0, "warmups=%s: must not be negative", warmups);
        require(maxEncodeTokens >= 1, "maxEncodeTokens=%s: must be positive", maxEncodeTokens);
        require(jitWarmUpMs >= 0, "jitWarmUpMs=%s: must not be negative", jitWarmUpMs);
        require(threadsPerDevice >= 0, "threadsPerDevice=%s: must be 0 (as the engine) or positive", threadsPerDevice);
    }

    public ProfileGrid withTpDegrees(List<Integer> degrees) {
        return new ProfileGrid(degrees, encodeBatchSizes, encodeSeqLengths, maxEncodeTokens, decodeBatchSizes,
                decodeContextLengths, warmups, repeats, jitWarmUpMs, threadsPerDevice);
    }

    public ProfileGrid withThreadsPerDevice(int threads) {
        return new ProfileGrid(tpDegrees, encodeBatchSizes, encodeSeqLengths, maxEncodeTokens, decodeBatchSizes,
                decodeContextLengths, warmups, repeats, jitWarmUpMs, threads);
    }

    /** Kernel threads of each device at TP degree {@code degree}: the engine's default rule when 0. */
    public int threadsAt(int degree) {
        return threadsPerDevice > 0 ? threadsPerDevice : Math.max(1, Runtime.getRuntime().availableProcessors() / degree);
    }

    public ProfileGrid withRepeats(int warmupRuns, int timedRuns) {
        return new ProfileGrid(tpDegrees, encodeBatchSizes, encodeSeqLengths, maxEncodeTokens, decodeBatchSizes,
                decodeContextLengths, warmupRuns, timedRuns, jitWarmUpMs, threadsPerDevice);
    }
}
