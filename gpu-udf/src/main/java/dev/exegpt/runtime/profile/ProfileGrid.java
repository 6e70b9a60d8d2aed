package dev.exegpt.runtime.profile;

import static dev.exegpt.runtime.Require.require;

import java.util.List;

/**
 * What XProfiler measures (PAPER.md §3: the grid values are not given by the paper; these are our choice, sized so
 * that the small model profiles in well under two minutes on two cores).
 *
 * @param tpDegrees tensor-parallel degrees to measure
 * @param encodeBatchSizes batch sizes of encode steps
 * @param encodeSeqLengths input lengths of encode steps
 * @param maxEncodeTokens encode steps above batch x length = this are skipped
 * @param decodeBatchSizes batch sizes of decode steps
 * @param decodeContextLengths tokens already cached at a decode step
 * @param warmups untimed runs before the repeats
 * @param repeats timed runs; the entry keeps the median, min and max
 * @param jitWarmUpMs untimed running of every code path per TP degree before the grid, so the JIT has compiled it
 *     (15 s by default: the prefill attention's fast code takes ~12 s of long steps to arrive on this CPU)
 */
public record ProfileGrid(List<Integer> tpDegrees, List<Integer> encodeBatchSizes, List<Integer> encodeSeqLengths,
                          int maxEncodeTokens, List<Integer> decodeBatchSizes, List<Integer> decodeContextLengths,
                          int warmups, int repeats, long jitWarmUpMs) {

    public static final ProfileGrid DEFAULTS = new ProfileGrid(List.of(1, 2), List.of(1, 4, 16), List.of(16, 64, 256),
            4096, List.of(1, 8, 32, 64), List.of(16, 64, 256), 2, 5, 15000);

    public ProfileGrid {
        require(!tpDegrees.isEmpty(), "tpDegrees: at least one degree");
        for (int d : tpDegrees) require(d >= 1, "tp degree %s: must be at least 1", d);
        require(repeats >= 1, "repeats=%s: must be at least 1", repeats);
        require(warmups >= 0, "warmups=%s: must not be negative", warmups);
        require(maxEncodeTokens >= 1, "maxEncodeTokens=%s: must be positive", maxEncodeTokens);
        require(jitWarmUpMs >= 0, "jitWarmUpMs=%s: must not be negative", jitWarmUpMs);
    }

    public ProfileGrid withTpDegrees(List<Integer> degrees) {
        return new ProfileGrid(degrees, encodeBatchSizes, encodeSeqLengths, maxEncodeTokens, decodeBatchSizes,
                decodeContextLengths, warmups, repeats, jitWarmUpMs);
    }

    public ProfileGrid withRepeats(int warmupRuns, int timedRuns) {
        return new ProfileGrid(tpDegrees, encodeBatchSizes, encodeSeqLengths, maxEncodeTokens, decodeBatchSizes,
                decodeContextLengths, warmupRuns, timedRuns, jitWarmUpMs);
    }
}
