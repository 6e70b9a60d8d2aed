package dev.exegpt.scheduler.search;

import dev.exegpt.scheduler.sim.Estimate;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Function;

/**
 * Algorithm 1 of the paper (PAPER.md §9.2), generalised to n integer dimensions [choice, §9.4]: a block's bottom
 * corner (all minima) bounds its latency from below, its top corner (all maxima) bounds its throughput from above.
 * Blocks are popped best upper bound first and split in half along their longest dimension; a child is dropped
 * when its bottom corner misses the bound by more than eps_L (nothing inside can meet it) or when its top corner
 * cannot beat the incumbent by more than eps_T; a child whose top corner meets the bound is settled by that
 * corner. Only simulated, feasible points become the incumbent, so non-monotone regions cost optimality (within
 * the tolerances), never feasibility.
 */
public final class BranchAndBound {

    /** The best point found, how many points were simulated, and the lowest latency seen (for infeasible bounds). */
    public record Result(Estimate best, int[] bestIndex, int numSimulated, Estimate fastest) {
        public boolean feasible() {
            return best != null;
        }
    }

    private record Block(int[] lo, int[] hi, double upperSeqPerSec) {}

    private final SearchSpace space;
    private final Function<int[], Estimate> simulate;
    private final double latencyBoundMs;
    private final double throughputTolerance;
    private final double latencyTolerance;
    private final Map<String, Estimate> memo = new HashMap<>();
    private Estimate fastest;

    public BranchAndBound(SearchSpace space, Function<int[], Estimate> simulate, double latencyBoundMs,
                          double throughputTolerance, double latencyTolerance) {
        this.space = space;
        this.simulate = simulate;
        this.latencyBoundMs = latencyBoundMs;
        this.throughputTolerance = throughputTolerance;
        this.latencyTolerance = latencyTolerance;
    }

    private Estimate perf(int[] idx) {
        return memo.computeIfAbsent(Arrays.toString(idx), k -> {
            Estimate e = simulate.apply(idx.clone());
            if (fastest == null || e.latencyMs() < fastest.latencyMs() && (e.feasible() || !fastest.feasible())
                    || e.feasible() && !fastest.feasible()) {
                fastest = e;
            }
            return e;
        });
    }

    private boolean meets(Estimate e) {
        return e.meets(latencyBoundMs);
    }

    public Result run() {
        int n = space.numDims();
        int[] lo = new int[n], hi = new int[n];
        for (int d = 0; d < n; d++) hi[d] = space.size(d) - 1;
        Estimate low = perf(lo);
        int[] bestIdx = null;
        Estimate best = null;
        if (meets(low)) { best = low; bestIdx = lo.clone(); }
        if (low.feasible() && low.latencyMs() >= latencyBoundMs * (1 + latencyTolerance)) {
            return new Result(null, null, memo.size(), fastest);   // the fastest corner misses: infeasible (§9.4)
        }
        Estimate top = perf(hi);
        if (meets(top)) return new Result(top, hi.clone(), memo.size(), fastest);   // the whole space meets the bound
        PriorityQueue<Block> queue = new PriorityQueue<>((a, b) -> Double.compare(b.upperSeqPerSec(), a.upperSeqPerSec()));
        queue.add(new Block(lo, hi, Double.POSITIVE_INFINITY));
        while (!queue.isEmpty()) {
            Block b = queue.poll();
            if (best != null && b.upperSeqPerSec() < best.sequencesPerSecond() * (1 - throughputTolerance)) continue;
            int dim = longest(b);
            if (dim < 0) continue;   // a single point, already simulated
            int mid = (b.lo()[dim] + b.hi()[dim]) / 2;
            int[] hi1 = b.hi().clone();
            hi1[dim] = mid;
            int[] lo2 = b.lo().clone();
            lo2[dim] = mid + 1;
            for (int[][] child : new int[][][] {{b.lo(), hi1}, {lo2, b.hi()}}) {
                Estimate lowr = perf(child[0]);
                if (!lowr.feasible() && !lowr.infeasibleReason().startsWith("memory")) {
                    // structurally impossible corner (e.g. too many stages): cannot bound; explore by splitting
                } else if (!lowr.feasible() || lowr.latencyMs() >= latencyBoundMs * (1 + latencyTolerance)) {
                    continue;   // the child's fastest point misses the bound or the memory: nothing inside fits
                }
                if (meets(lowr) && (best == null || lowr.sequencesPerSecond() > best.sequencesPerSecond())) {
                    best = lowr;
                    bestIdx = child[0].clone();
                }
                Estimate upp = perf(child[1]);
                if (meets(upp) && best != null && upp.sequencesPerSecond() > best.sequencesPerSecond()) {
                    best = upp;
                    bestIdx = child[1].clone();
                }
                if (meets(upp) && upp.sequencesPerSecond() >= lowr.sequencesPerSecond() * (1 - throughputTolerance)) {
                    continue;   // monotone here: nothing inside beats its top corner
                }
                if (meets(upp) && best == null) {
                    best = upp;
                    bestIdx = child[1].clone();
                }
                // The top corner misses the bound, so its throughput bounds the block only where throughput is
                // monotone; WAA is not (its device split moves with B_E), so such a block is kept for splitting
                // unless even its top corner's throughput is far below the incumbent's (eps_T).
                double upper = upp.feasible() ? Math.max(upp.sequencesPerSecond(), lowr.sequencesPerSecond())
                        * (space.policy().isWaa() ? 2 : 1) : Double.POSITIVE_INFINITY;
                if (best == null || upper >= best.sequencesPerSecond() * (1 - throughputTolerance)) {
                    queue.add(new Block(child[0], child[1], upper));
                }
            }
        }
        if (best != null) {
            // Our addition: a pattern search around the incumbent (steps of 1, 2, 4 and 8 grid points along each
            // variable, repeated while it improves) repairs what a non-monotone region hid from the bounds
            // (PAPER.md §9.6 measures 3-4% such points); a few dozen simulations.
            boolean moved = true;
            while (moved) {
                moved = false;
                for (int d = 0; d < n; d++) {
                    for (int step : new int[] {-8, -4, -2, -1, 1, 2, 4, 8}) {
                        int[] nb = bestIdx.clone();
                        nb[d] += step;
                        if (nb[d] < 0 || nb[d] >= space.size(d)) continue;
                        Estimate e = perf(nb);
                        if (meets(e) && e.sequencesPerSecond() > best.sequencesPerSecond() * (1 + 1e-9)) {
                            best = e;
                            bestIdx = nb;
                            moved = true;
                        }
                    }
                }
            }
        }
        return new Result(best, bestIdx, memo.size(), fastest);
    }

    private static int longest(Block b) {
        int dim = -1, span = 0;
        for (int d = 0; d < b.lo().length; d++) {
            int s = b.hi()[d] - b.lo()[d];
            if (s > span) { span = s; dim = d; }
        }
        return dim;
    }

    /** Every point of the space; the reference the tests compare the branch-and-bound with. */
    public static Result exhaustive(SearchSpace space, Function<int[], Estimate> simulate, double latencyBoundMs) {
        int n = space.numDims();
        int[] idx = new int[n];
        Estimate best = null, fastest = null;
        int[] bestIdx = null;
        int count = 0;
        while (true) {
            Estimate e = simulate.apply(idx.clone());
            count++;
            if (e.meets(latencyBoundMs) && (best == null || e.sequencesPerSecond() > best.sequencesPerSecond())) {
                best = e;
                bestIdx = idx.clone();
            }
            if (fastest == null || e.feasible() && e.latencyMs() < fastest.latencyMs()) fastest = e;
            int d = 0;
            while (d < n && ++idx[d] == space.size(d)) idx[d++] = 0;
            if (d == n) break;
        }
        return new Result(best, bestIdx, count, fastest);
    }
}
