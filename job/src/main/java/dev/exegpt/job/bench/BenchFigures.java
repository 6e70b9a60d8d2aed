package dev.exegpt.job.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.exegpt.job.report.RunFigures;
import dev.exegpt.job.report.SloClock;
import dev.exegpt.operators.core.Audit;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.InferenceResult;

/**
 * What {@code exegpt bench} measured for one policy over its rounds. The user-facing figures (requests/s, tokens/s,
 * percentiles, attainment, goodput) are the policy's {@link RunFigures}, the same ones the report and {@code exegpt audit}
 * show for these results: every round pooled, over the span of the rounds (each round is a version of the policy's
 * schedule; first arrival to last completion of each). The figures set beside the simulators are the per-round values
 * summarised as the event simulator summarises its run, median over the rounds. The verdict's SLO attainment is
 * counted on one of two clocks: from arrival (the job's own verdict, for open-loop arrivals) or from encode start (the
 * paper's clock, for bulk arrivals, where the wait in the queue only measures the size of the bulk).
 *
 * @param figures              the policy's figures, every round pooled
 * @param clock                the clock of the verdict (and of goodput)
 * @param numRequests          requests sent (every round)
 * @param throughput10to90     requests/s between the 10th and 90th percentile completions, as EventSimulator counts them
 * @param completionsPerSecond requests/s from a round's first arrival to its last completion, median of the rounds (as
 *                             {@code SimResult#completionsPerSecond})
 * @param p99EndToEndMs        p99 latency from arrival (nearest rank over one round's requests), median of the rounds
 * @param boundLengthServiceMs worst latency from encode start among requests with at least the task's bound output
 *                             length minus 2 tokens; NaN when no round had one
 */
public record BenchFigures(RunFigures figures, SloClock clock, int numRequests, double throughput10to90, double completionsPerSecond,
                    double p99EndToEndMs, double boundLengthServiceMs) {

    /**
     * @param rounds              each round's results
     * @param numRequestsPerRound requests sent per round
     * @param boundOutputTokens   the task's latency-defining (p99) output length
     * @param clock               the verdict's clock: {@link SloClock#ENCODE_START} for bulk arrivals, else arrival
     */
    public static BenchFigures of(List<List<InferenceResult>> rounds, int numRequestsPerRound, int boundOutputTokens, SloClock clock) {
        if (rounds.isEmpty()) throw new IllegalArgumentException("no rounds");
        List<InferenceResult> all = new ArrayList<>();
        double[] throughput = new double[rounds.size()];
        double[] completions = new double[rounds.size()];
        double[] p99 = new double[rounds.size()];
        double worstBound = Double.NaN;
        for (int k = 0; k < rounds.size(); k++) {
            List<InferenceResult> round = rounds.get(k);
            if (round.isEmpty()) throw new IllegalArgumentException("round " + (k + 1) + " has no results");
            all.addAll(round);
            long start = round.stream().mapToLong(r -> r.getLatency().getArrivedEpochMs()).min().orElseThrow();
            long end = round.stream().mapToLong(r -> r.getLatency().getCompletedEpochMs()).max().orElseThrow();
            completions[k] = round.size() * 1000.0 / Math.max(1, end - start);
            throughput[k] = throughput10to90(round.stream().mapToDouble(r -> r.getLatency().getCompletedEpochMs() - start).toArray());
            p99[k] = Audit.percentile(round.stream().mapToDouble(SloClock.ARRIVAL::latencyMs).sorted().toArray(), 0.99);
            for (InferenceResult r : round) {
                if (r.getNumOutputTokens() >= boundOutputTokens - 2) {
                    double serviceMs = SloClock.ENCODE_START.latencyMs(r);
                    worstBound = Double.isNaN(worstBound) ? serviceMs : Math.max(worstBound, serviceMs);
                }
            }
        }
        return new BenchFigures(RunFigures.of(all, boundOutputTokens), clock, numRequestsPerRound * rounds.size(), median(throughput),
                median(completions), median(p99), worstBound);
    }

    /** Requests/s between the 10th and 90th percentile of completion times (ms), as EventSimulator's summary counts them. */
    public static double throughput10to90(double[] finishMs) {
        int n = finishMs.length;
        double[] f = finishMs.clone();
        Arrays.sort(f);
        double lo = f[(int) (n * 0.1)], hi = f[Math.min(n - 1, (int) (n * 0.9))];
        return hi > lo ? (0.8 * n) * 1000 / (hi - lo) : n * 1000 / Math.max(1, f[n - 1]);
    }

    public static double median(double[] v) {
        return FidelityRun.median(v);
    }

    /** The audit of every round's results over the span of the rounds. */
    public AuditWindow pooled() {
        return figures.pooled();
    }

    /** The span of the rounds, ms. */
    public double spanMs() {
        return figures.spanMs();
    }

    public int numAnswered() {
        return (int) figures.numRequests();
    }

    /** Requests within their SLO on the verdict's clock. */
    public long numSloMet() {
        return figures.on(clock).numMet();
    }

    /** Share of the requests with an SLO that met it on the verdict's clock (0 when none had one). */
    public double attainment() {
        Double a = figures.on(clock).attainment();
        return a == null ? 0 : a;
    }

    /** Requests within the SLO on the verdict's clock per second of the span. */
    public double goodputPerSecond() {
        return figures.goodputPerSecond(clock);
    }

    /** Error of a prediction in percent of the measured value; NaN when either is missing. */
    public static double errorPercent(double predicted, double measured) {
        if (Double.isNaN(predicted) || Double.isNaN(measured) || measured == 0) return Double.NaN;
        return 100 * (predicted / measured - 1);
    }
}
