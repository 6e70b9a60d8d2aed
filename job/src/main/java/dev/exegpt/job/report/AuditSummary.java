package dev.exegpt.job.report;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.exegpt.job.report.Arrivals;
import dev.exegpt.job.report.RunFigures;
import dev.exegpt.job.report.SloClock;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;

/**
 * The audit of a run as a few lines a person reads at the end of {@code run --input}, {@code demo} or {@code audit};
 * every latency and attainment names its clock, and the verdict's is marked.
 */
public final class AuditSummary {

    private AuditSummary() {}

    /** The figures of a run ({@link RunFigures}, as the report and the bench show them), the verdict per {@code arrivals}. */
    public static void print(PrintStream out, RunFigures f, Arrivals arrivals) {
        AuditWindow w = f.pooled();
        out.printf("audit: %,d requests in a span of %.1f s (%d part(s)): %.2f requests/s, %.1f output tokens/s%n", f.numRequests(),
                f.spanMs() / 1000.0, f.numSpans(), f.requestsPerSecond(), f.outputTokensPerSecond());
        SloClock verdict = arrivals.verdict();
        for (SloClock clock : verdict == SloClock.ARRIVAL ? new SloClock[] {SloClock.ARRIVAL, SloClock.ENCODE_START}
                : new SloClock[] {SloClock.ENCODE_START, SloClock.ARRIVAL}) {
            RunFigures.Slo s = f.on(clock);
            out.printf("  %s: latency p50 %.0f ms, p90 %.0f ms, p99 %.0f ms", clock.label(), s.p50Ms(), s.p90Ms(), s.p99Ms());
            if (s.attainment() != null) {
                out.printf("; SLO attainment %.1f%% (%,d of %,d), goodput %.2f requests/s%s", 100 * s.attainment(), s.numMet(),
                        s.numWithSlo(), f.goodputPerSecond(clock), clock == verdict ? " <- verdict" : "");
            }
            out.println();
        }
        RunFigures.Slo v = f.on(verdict);
        if (v.numUnanswered() > 0) {
            Double accepted = v.acceptedAttainment();
            out.printf("  answered without tokens (refused by admission control, past a deadline, or failed): %,d; the other %,d:"
                            + " SLO attainment %s %s (latency percentiles above are theirs)%n", v.numUnanswered(),
                    v.numWithSlo() - v.numUnanswered(), verdict.label(),
                    accepted == null ? "n/a" : String.format(java.util.Locale.ROOT, "%.1f%%", 100 * accepted));
        }
        out.printf("  verdict %s: %s%n", verdict.label(), arrivals.why());
        out.printf("  TTFT from arrival p50 %.0f ms, p99 %.0f ms; TPOT p50 %.1f ms, p99 %.1f ms%n", w.getTtftP50Ms(), w.getTtftP99Ms(),
                w.getTpotP50Ms(), w.getTpotP99Ms());
        if (w.getBoundLengthLatencyMs() != null) {
            out.printf("  worst latency from arrival of a bound-length request (SLA-b): %.0f ms%n", w.getBoundLengthLatencyMs());
        }
        out.printf("  mean batch: encode %.1f, decode %.1f%n", w.getMeanEncodeBatchSize(), w.getMeanDecodeBatchSize());
    }

    /** The job's own audit window (from arrival, its {@code sloMet} verdict). */
    public static void print(PrintStream out, AuditWindow w) {
        out.printf("audit: %,d requests in %.1f s: %.2f requests/s, %.1f output tokens/s%n", w.getNumRequests(),
                (w.getWindowEndEpochMs() - w.getWindowStartEpochMs()) / 1000.0, w.getRequestsPerSecond(), w.getOutputTokensPerSecond());
        out.printf("  latency from arrival p50 %.0f ms, p90 %.0f ms, p99 %.0f ms%n",
                w.getEndToEndP50Ms(), w.getEndToEndP90Ms(), w.getEndToEndP99Ms());
        out.printf("  TTFT from arrival p50 %.0f ms, p99 %.0f ms; TPOT p50 %.1f ms, p99 %.1f ms%n", w.getTtftP50Ms(), w.getTtftP99Ms(),
                w.getTpotP50Ms(), w.getTpotP99Ms());
        if (w.getAttainment() != null) {
            out.printf("  SLO attainment (SLA-a) from arrival: %.1f%% (%,d of %,d); goodput %.2f requests/s%n", 100 * w.getAttainment(),
                    w.getNumSloMet(), w.getNumWithSlo(), w.getGoodputRequestsPerSecond());
        }
        if (w.getBoundLengthLatencyMs() != null) {
            out.printf("  worst latency from arrival of a bound-length request (SLA-b): %.0f ms%n", w.getBoundLengthLatencyMs());
        }
        out.printf("  mean batch: encode %.1f, decode %.1f; schedule %s v%d%n", w.getMeanEncodeBatchSize(),
                w.getMeanDecodeBatchSize(), w.getScheduleId(), w.getScheduleVersion());
    }

    /**
     * One line per schedule version the results ran under (a control loop's changes): requests, those admission control
     * answered early (finish reason DEADLINE: refused before they were encoded or, under WAA, before a decoder took them
     * over), and the SLO attainment from arrival and
     * the p99 latency of the requests it accepted.
     */
    public static void printPerVersion(PrintStream out, List<InferenceResult> results) {
        Map<Integer, List<InferenceResult>> byVersion = new TreeMap<>();
        for (InferenceResult r : results) byVersion.computeIfAbsent(r.getScheduleVersion(), v -> new java.util.ArrayList<>()).add(r);
        for (Map.Entry<Integer, List<InferenceResult>> e : byVersion.entrySet()) {
            List<InferenceResult> all = e.getValue();
            List<InferenceResult> accepted = all.stream().filter(r -> r.getFinishReason() != FinishReason.DEADLINE).toList();
            long met = accepted.stream().filter(r -> Boolean.TRUE.equals(r.getSloMet())).count();
            long withSlo = accepted.stream().filter(r -> r.getSloMet() != null).count();
            double[] e2e = accepted.stream().mapToDouble(r -> r.getLatency().getEndToEndMs()).sorted().toArray();
            double p99 = e2e.length == 0 ? Double.NaN : e2e[Math.min(e2e.length - 1, (int) Math.ceil(0.99 * e2e.length) - 1)];
            out.printf("  schedule v%d: %,d requests, %,d refused by admission control; accepted: SLO attainment from arrival %s,"
                            + " p99 %.0f ms%n", e.getKey(), all.size(), all.size() - accepted.size(),
                    withSlo == 0 ? "n/a" : String.format(java.util.Locale.ROOT, "%.1f%% (%d of %d)", 100.0 * met / withSlo, met, withSlo), p99);
        }
    }
}
