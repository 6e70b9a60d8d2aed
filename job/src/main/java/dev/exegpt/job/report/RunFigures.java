package dev.exegpt.job.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.exegpt.operators.core.Audit;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.InferenceResult;

/**
 * The figures of one run or group of results that the SLO report's tables, {@code exegpt audit}, the bench and the
 * demo show, computed here once so that two tables of the same results cannot disagree by accident.
 *
 * <p>The span is the time the results were being served: for each schedule version among them, first arrival to last
 * completion, and the union of those intervals. A bench runs each round of a policy as a new version of its schedule,
 * so its span is the sum of its rounds and leaves out the other policies' rounds in between; a run of one schedule
 * version is simply first arrival to last completion. Every rate is per second of this span.
 *
 * @param pooled          the audit of all the results over the span (throughput, TTFT and TPOT percentiles, batch
 *                        sizes, SLA-(b)); its window runs from 0 to the span, ms
 * @param spanMs          the span, ms (at least 1)
 * @param numSpans        how many disjoint intervals make up the span (a bench's rounds; 0 for no results)
 * @param fromArrival     SLO attainment and latency percentiles counted from arrival
 * @param fromEncodeStart the same counted from encode start
 */
public record RunFigures(AuditWindow pooled, long spanMs, int numSpans, Slo fromArrival, Slo fromEncodeStart) {

    /**
     * SLO attainment and latency percentiles (nearest rank) on one clock. The percentiles are of the requests answered
     * with their tokens; one answered without them (refused by admission control, past its deadline, failed) counts as
     * a miss, however soon it was answered.
     *
     * @param numMet        results within their SLO on this clock
     * @param numWithSlo    results that had an SLO
     * @param numUnanswered of those, the ones answered without their tokens ({@link SloClock#unanswered})
     */
    public record Slo(SloClock clock, long numMet, long numWithSlo, long numUnanswered, double p50Ms, double p90Ms, double p99Ms) {

        /** Share of the results with an SLO that met it, 0..1; null when none had one. */
        public Double attainment() {
            return numWithSlo == 0 ? null : (double) numMet / numWithSlo;
        }

        /** Share of the accepted results (answered with their tokens) with an SLO that met it, 0..1; null when none. */
        public Double acceptedAttainment() {
            long accepted = numWithSlo - numUnanswered;
            return accepted == 0 ? null : (double) numMet / accepted;
        }
    }

    /** The figures of {@code results}, with SLA-(b) unknown. */
    public static RunFigures of(List<InferenceResult> results) {
        return of(results, 0);
    }

    /**
     * @param boundOutputTokens the schedule's latency-defining output length for SLA-(b); 0 if unknown
     */
    public static RunFigures of(List<InferenceResult> results, int boundOutputTokens) {
        List<long[]> intervals = merged(results);
        long spanMs = Math.max(1, intervals.stream().mapToLong(i -> i[1] - i[0]).sum());
        AuditWindow pooled = Audit.summarize(results, 0, spanMs, boundOutputTokens);
        return new RunFigures(pooled, spanMs, intervals.size(), slo(results, SloClock.ARRIVAL), slo(results, SloClock.ENCODE_START));
    }

    /** SLO attainment and percentiles on {@code clock}. */
    public Slo on(SloClock clock) {
        return clock == SloClock.ARRIVAL ? fromArrival : fromEncodeStart;
    }

    public long numRequests() {
        return pooled.getNumRequests();
    }

    /** Results per second of the span. */
    public double requestsPerSecond() {
        return pooled.getRequestsPerSecond();
    }

    /** Output tokens per second of the span. */
    public double outputTokensPerSecond() {
        return pooled.getOutputTokensPerSecond();
    }

    /** Results within their SLO on {@code clock} per second of the span. */
    public double goodputPerSecond(SloClock clock) {
        return on(clock).numMet() * 1000.0 / spanMs;
    }

    private static Slo slo(List<InferenceResult> results, SloClock clock) {
        double[] ms = results.stream().filter(r -> !SloClock.unanswered(r)).mapToDouble(clock::latencyMs).sorted().toArray();
        long met = 0;
        long withSlo = 0;
        long unanswered = 0;
        for (InferenceResult r : results) {
            Boolean m = clock.met(r);
            if (m != null) {
                withSlo++;
                met += m ? 1 : 0;
                unanswered += SloClock.unanswered(r) ? 1 : 0;
            }
        }
        return new Slo(clock, met, withSlo, unanswered, Audit.percentile(ms, 0.50), Audit.percentile(ms, 0.90),
                Audit.percentile(ms, 0.99));
    }

    /** Per schedule version, [first arrival, last completion] ms; overlapping ones merged; in time order. */
    private static List<long[]> merged(List<InferenceResult> results) {
        Map<String, long[]> byVersion = new LinkedHashMap<>();
        for (InferenceResult r : results) {
            long[] i = byVersion.computeIfAbsent(r.getScheduleId() + " v" + r.getScheduleVersion(),
                    k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE});
            i[0] = Math.min(i[0], r.getLatency().getArrivedEpochMs());
            i[1] = Math.max(i[1], r.getLatency().getCompletedEpochMs());
        }
        List<long[]> sorted = new ArrayList<>(byVersion.values());
        sorted.sort(Comparator.comparingLong(i -> i[0]));
        List<long[]> out = new ArrayList<>();
        for (long[] i : sorted) {
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && i[0] <= last[1]) {
                last[1] = Math.max(last[1], i[1]);
            } else {
                out.add(new long[] {i[0], i[1]});
            }
        }
        return out;
    }
}
