package dev.exegpt.job.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.exegpt.operators.core.Audit;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.InferenceResult;

/**
 * What {@code exegpt bench} measured for one policy over its rounds. The user-facing figures (requests/s, tokens/s,
 * percentiles, attainment, goodput) pool every round's results over the summed round spans (first arrival to last
 * completion of a round); the figures set beside the simulators are the per-round values summarised as the event
 * simulator summarises its run, median over the rounds. SLO attainment is counted on one of two clocks: end to end
 * (from arrival, the job's own verdict, for open-loop arrivals) or service (from the request's encode start, the
 * paper's clock, for bulk arrivals, where the wait in the queue only measures the size of the bulk).
 *
 * @param pooled               the audit of all rounds' results over the summed spans
 * @param spanMs               the summed spans, ms
 * @param numRequests          requests sent (every round)
 * @param throughput10to90     requests/s between the 10th and 90th percentile completions, as EventSimulator counts them
 * @param completionsPerSecond requests/s from a round's first arrival to its last completion, median of the rounds (as
 *                             {@code SimResult#completionsPerSecond})
 * @param p99EndToEndMs        p99 end-to-end latency (from arrival, nearest rank over one round's requests)
 * @param boundLengthServiceMs worst service latency (from the request's encode start) among requests with at least the
 *                             task's bound output length minus 2 tokens; NaN when no round had one
 * @param serviceClock         whether attainment is counted from encode start (else end to end)
 * @param numSloMet            requests within the SLO on that clock
 */
record BenchFigures(AuditWindow pooled, double spanMs, int numRequests, double throughput10to90, double completionsPerSecond,
                    double p99EndToEndMs,
                    double boundLengthServiceMs, boolean serviceClock, long numSloMet) {

    /**
     * @param rounds            each round's results
     * @param numRequestsPerRound requests sent per round
     * @param boundOutputTokens the task's latency-defining (p99) output length
     * @param sloMs             the SLO, for the service clock
     * @param serviceClock      count attainment from encode start (bulk arrivals), else take the job's end-to-end verdict
     */
    static BenchFigures of(List<List<InferenceResult>> rounds, int numRequestsPerRound, int boundOutputTokens, long sloMs,
                           boolean serviceClock) {
        if (rounds.isEmpty()) throw new IllegalArgumentException("no rounds");
        List<InferenceResult> all = new ArrayList<>();
        double span = 0;
        double[] throughput = new double[rounds.size()];
        double[] completions = new double[rounds.size()];
        double[] p99 = new double[rounds.size()];
        double worstBound = Double.NaN;
        long met = 0;
        for (int k = 0; k < rounds.size(); k++) {
            List<InferenceResult> round = rounds.get(k);
            if (round.isEmpty()) throw new IllegalArgumentException("round " + (k + 1) + " has no results");
            all.addAll(round);
            long start = round.stream().mapToLong(r -> r.getLatency().getArrivedEpochMs()).min().orElseThrow();
            long end = round.stream().mapToLong(r -> r.getLatency().getCompletedEpochMs()).max().orElseThrow();
            span += Math.max(1, end - start);
            completions[k] = round.size() * 1000.0 / Math.max(1, end - start);
            throughput[k] = throughput10to90(round.stream().mapToDouble(r -> r.getLatency().getCompletedEpochMs() - start).toArray());
            p99[k] = Audit.percentile(round.stream().mapToDouble(r -> r.getLatency().getEndToEndMs()).sorted().toArray(), 0.99);
            for (InferenceResult r : round) {
                double serviceMs = r.getLatency().getEndToEndMs() - r.getLatency().getQueueMs();
                met += serviceClock ? (serviceMs <= sloMs ? 1 : 0) : Boolean.TRUE.equals(r.getSloMet()) ? 1 : 0;
                if (r.getNumOutputTokens() >= boundOutputTokens - 2) {
                    worstBound = Double.isNaN(worstBound) ? serviceMs : Math.max(worstBound, serviceMs);
                }
            }
        }
        AuditWindow pooled = Audit.summarize(all, 0, Math.round(span), boundOutputTokens);
        return new BenchFigures(pooled, span, numRequestsPerRound * rounds.size(), median(throughput), median(completions), median(p99), worstBound,
                serviceClock, met);
    }

    /** Requests/s between the 10th and 90th percentile of completion times (ms), as EventSimulator's summary counts them. */
    static double throughput10to90(double[] finishMs) {
        int n = finishMs.length;
        double[] f = finishMs.clone();
        Arrays.sort(f);
        double lo = f[(int) (n * 0.1)], hi = f[Math.min(n - 1, (int) (n * 0.9))];
        return hi > lo ? (0.8 * n) * 1000 / (hi - lo) : n * 1000 / Math.max(1, f[n - 1]);
    }

    static double median(double[] v) {
        return FidelityRun.median(v);
    }

    int numAnswered() {
        return (int) pooled.getNumRequests();
    }

    /** Share of the answered requests within the SLO on this bench's clock. */
    double attainment() {
        return pooled.getNumRequests() == 0 ? 0 : (double) numSloMet / pooled.getNumRequests();
    }

    /** Requests within the SLO per second of the summed round spans. */
    double goodputPerSecond() {
        return numSloMet * 1000 / spanMs;
    }

    /** Error of a prediction in percent of the measured value; NaN when either is missing. */
    static double errorPercent(double predicted, double measured) {
        if (Double.isNaN(predicted) || Double.isNaN(measured) || measured == 0) return Double.NaN;
        return 100 * (predicted / measured - 1);
    }
}
