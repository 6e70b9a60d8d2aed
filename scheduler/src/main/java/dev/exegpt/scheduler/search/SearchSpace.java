package dev.exegpt.scheduler.search;

import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.plan.Policy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The grid one branch-and-bound run searches: one policy, one TP degree (PAPER.md §5.1, §9.3), every dimension
 * oriented so that a higher index raises both throughput and latency (PAPER.md §6): B_E up, N_D down (encoding
 * more often), B_m up, and, when searched, devices under TP down. Grid values are our choice (§9.4). WAA's B_m is
 * searched as the number of decoder micro-batches M (descending, so B_m = ceil(B_D / M) ascending; M = 1 is the
 * unsplit batch): beyond about one micro-batch per decoder stage, more micro-batches only re-read the weights and
 * latency rises again, which would break the monotonicity the search relies on (PAPER.md §7.8 reports that effect).
 *
 * <p>XScheduler fixes the number of TP devices per run ({@link #tpCounts()}, {@code fixedNumTpDevices} >= 0): with
 * NVLink-cheap all-reduces, decode is weight-bound and TP raises throughput too, so that dimension is not monotone
 * in our cost model (scheduler/README.md).
 *
 * @param decodePerEncode   B_D / B_E under WAA (S_D by Little's law), to turn M into B_m
 * @param fixedNumTpDevices TP devices of every point, or -1 when they are the third dimension
 */
public record SearchSpace(Policy policy, int numDevices, int tpDegree, double decodePerEncode, int fixedNumTpDevices,
                          int[][] values) {

    public static final int[] ENCODE_BATCH = {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64,
            80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512};
    /** N_D, descending: a higher index means encoding more often. */
    public static final int[] DECODE_ITERATIONS = {512, 384, 256, 192, 128, 96, 64, 48, 40, 32, 28, 24, 20, 16, 14, 12, 10,
            9, 8, 7, 6, 5, 4, 3, 2, 1};
    /** Decoder micro-batch counts M, descending (B_m ascending). */
    public static final int[] MICRO_BATCHES = {16, 12, 8, 6, 4, 3, 2, 1};

    /** The full space, the TP-device count as a third dimension (descending). */
    public static SearchSpace of(Policy policy, int numDevices, int tpDegree, double decodePerEncode) {
        List<int[]> dims = new ArrayList<>(List.of(ENCODE_BATCH.clone(),
                policy == Policy.RRA ? DECODE_ITERATIONS.clone() : MICRO_BATCHES.clone()));
        if (tpDegree > 1) {
            int[] counts = tpCountsOf(numDevices, tpDegree);
            int[] descending = new int[counts.length];
            for (int i = 0; i < counts.length; i++) descending[i] = counts[counts.length - 1 - i];
            dims.add(descending);
        }
        return new SearchSpace(policy, numDevices, tpDegree, decodePerEncode, tpDegree > 1 ? -1 : 0, dims.toArray(new int[0][]));
    }

    /** B_E x (N_D or M) with a fixed number of TP devices. */
    public static SearchSpace of(Policy policy, int numDevices, int tpDegree, double decodePerEncode, int numTpDevices) {
        return new SearchSpace(policy, numDevices, tpDegree, decodePerEncode, numTpDevices, new int[][] {
                ENCODE_BATCH.clone(), policy == Policy.RRA ? DECODE_ITERATIONS.clone() : MICRO_BATCHES.clone()});
    }

    /** 0 and the multiples of the degree up to the devices (degree 1: just 0). */
    public int[] tpCounts() {
        return tpCountsOf(numDevices, tpDegree);
    }

    private static int[] tpCountsOf(int numDevices, int tpDegree) {
        if (tpDegree <= 1) return new int[] {0};
        int[] out = new int[numDevices / tpDegree + 1];
        for (int i = 0; i < out.length; i++) out[i] = i * tpDegree;
        return Arrays.stream(out).distinct().toArray();
    }

    public int numDims() {
        return values.length;
    }

    public int size(int dim) {
        return values[dim].length;
    }

    public long numPoints() {
        long n = 1;
        for (int[] v : values) n *= v.length;
        return n;
    }

    public Candidate candidate(int[] idx) {
        int be = values[0][idx[0]];
        int second = values[1][idx[1]];
        int numTp = fixedNumTpDevices >= 0 ? fixedNumTpDevices : values[2][idx[2]];
        if (policy == Policy.RRA) return Candidate.rra(numDevices, be, second, tpDegree, numTp);
        int microBatch = second == 1 ? 0 : (int) Math.ceil(Math.ceil(be * decodePerEncode) / second);
        return Candidate.waa(policy, numDevices, be, microBatch, tpDegree, numTp);
    }

    public String dimName(int dim) {
        return switch (dim) {
            case 0 -> "B_E";
            case 1 -> policy == Policy.RRA ? "N_D" : "decoder micro-batches";
            default -> "TP devices";
        };
    }
}
