package dev.exegpt.scheduler.search;

import dev.exegpt.scheduler.sim.Estimate;
import java.util.List;

/**
 * XScheduler's answer: the best schedule over every policy and TP degree searched, or, when nothing meets the
 * bound, the fastest schedule seen and its latency (the tightest bound any schedule reaches).
 *
 * @param runs              one line per (policy, TP degree) run: its best, or why it found nothing
 * @param bindingConstraint what stops the optimum from going further: latency, memory, search-space edge, none
 * @param runnerUpNote      why the best schedule of the next-best run lost
 * @param familyNote        which family won (RRA, WAA, chunked prefill) and by how much over each other one searched
 */
public record Plan(Estimate best, Estimate runnerUp, Estimate fastest, double latencyBoundMs, int numSimulated,
                   double searchTimeMs, String bindingConstraint, String runnerUpNote, List<RunSummary> runs,
                   double throughputTolerance, double latencyTolerance, String familyNote) {

    public boolean feasible() {
        return best != null;
    }

    /** One branch-and-bound run. */
    public record RunSummary(String policy, int tpDegree, Estimate best, Estimate fastest, int numSimulated) {}
}
