package dev.exegpt.operators.core;

import java.util.Arrays;

import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.InferenceResult;

/**
 * Summarises the results that finished in one window into an {@link AuditWindow}: throughput, goodput, latency
 * percentiles, SLA-(a) attainment (share of requests within their SLO) and SLA-(b) (the worst latency among
 * requests whose output reached the schedule's bound length), reported apart as DESIGN.md §4 requires.
 */
public final class Audit {

    private Audit() {}

    /**
     * @param boundOutputTokens the schedule's latency-defining output length; 0 if unknown (SLA-(b) then null)
     */
    public static AuditWindow summarize(Iterable<InferenceResult> results, long windowStartEpochMs, long windowEndEpochMs,
                                        int boundOutputTokens) {
        int n = 0;
        for (InferenceResult ignored : results) {
            n++;
        }
        double[] e2e = new double[n];
        double[] ttft = new double[n];
        double[] tpot = new double[n];
        long numWithSlo = 0;
        long numMet = 0;
        long outputTokens = 0;
        double boundLatency = Double.NaN;
        double sumEncodeBatch = 0;
        double sumDecodeBatch = 0;
        double estimatorError = 0;
        long numEstimated = 0;
        String task = "";
        String scheduleId = "";
        int scheduleVersion = 0;
        int i = 0;
        for (InferenceResult r : results) {
            task = r.getTask();
            scheduleId = r.getScheduleId();
            scheduleVersion = r.getScheduleVersion();
            e2e[i] = r.getLatency().getEndToEndMs();
            ttft[i] = r.getLatency().getTtftMs();
            tpot[i] = r.getLatency().getTpotMs();
            i++;
            outputTokens += r.getNumOutputTokens();
            sumEncodeBatch += r.getEncodeBatchSize();
            sumDecodeBatch += r.getMeanDecodeBatchSize();
            if (r.getSloMet() != null) {
                numWithSlo++;
                numMet += r.getSloMet() ? 1 : 0;
            }
            if (boundOutputTokens > 0 && r.getNumOutputTokens() >= boundOutputTokens) {
                boundLatency = Double.isNaN(boundLatency) ? e2e[i - 1] : Math.max(boundLatency, e2e[i - 1]);
            }
            if (r.getNumEstimatedOutputTokens() != null) {
                estimatorError += Math.abs(r.getNumEstimatedOutputTokens() - r.getNumOutputTokens());
                numEstimated++;
            }
        }
        double seconds = Math.max(1, windowEndEpochMs - windowStartEpochMs) / 1000.0;
        Arrays.sort(e2e);
        Arrays.sort(ttft);
        Arrays.sort(tpot);
        return AuditWindow.newBuilder()
                .setWindowStartEpochMs(windowStartEpochMs)
                .setWindowEndEpochMs(windowEndEpochMs)
                .setTask(task)
                .setScheduleId(scheduleId)
                .setScheduleVersion(scheduleVersion)
                .setNumRequests(n)
                .setNumSloMet(numMet)
                .setNumWithSlo(numWithSlo)
                .setAttainment(numWithSlo > 0 ? (double) numMet / numWithSlo : null)
                .setRequestsPerSecond(n / seconds)
                .setOutputTokensPerSecond(outputTokens / seconds)
                .setGoodputRequestsPerSecond(numMet / seconds)
                .setEndToEndP50Ms(percentile(e2e, 0.50))
                .setEndToEndP90Ms(percentile(e2e, 0.90))
                .setEndToEndP99Ms(percentile(e2e, 0.99))
                .setTtftP50Ms(percentile(ttft, 0.50))
                .setTtftP99Ms(percentile(ttft, 0.99))
                .setTpotP50Ms(percentile(tpot, 0.50))
                .setTpotP99Ms(percentile(tpot, 0.99))
                .setBoundLengthLatencyMs(Double.isNaN(boundLatency) ? null : boundLatency)
                .setMeanEncodeBatchSize(n > 0 ? sumEncodeBatch / n : 0)
                .setMeanDecodeBatchSize(n > 0 ? sumDecodeBatch / n : 0)
                .setEstimatorMeanAbsErrorTokens(numEstimated > 0 ? estimatorError / numEstimated : null)
                .build();
    }

    /** Nearest-rank percentile of sorted values (the smallest value with at least q of the values at or below it). */
    public static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }
}
