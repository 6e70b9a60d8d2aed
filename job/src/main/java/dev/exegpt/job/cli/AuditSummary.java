package dev.exegpt.job.cli;

import java.io.PrintStream;

import dev.exegpt.schemas.AuditWindow;

/** The audit of a run as a few lines a person reads at the end of {@code run --input} or {@code demo}. */
final class AuditSummary {

    private AuditSummary() {}

    static void print(PrintStream out, AuditWindow w) {
        out.printf("audit: %,d requests in %.1f s: %.2f requests/s, %.1f output tokens/s%n", w.getNumRequests(),
                (w.getWindowEndEpochMs() - w.getWindowStartEpochMs()) / 1000.0, w.getRequestsPerSecond(), w.getOutputTokensPerSecond());
        out.printf("  end-to-end latency p50 %.0f ms, p90 %.0f ms, p99 %.0f ms (from each request's arrival)%n",
                w.getEndToEndP50Ms(), w.getEndToEndP90Ms(), w.getEndToEndP99Ms());
        out.printf("  TTFT p50 %.0f ms, p99 %.0f ms; TPOT p50 %.1f ms, p99 %.1f ms%n", w.getTtftP50Ms(), w.getTtftP99Ms(),
                w.getTpotP50Ms(), w.getTpotP99Ms());
        if (w.getAttainment() != null) {
            out.printf("  SLO attainment (SLA-a): %.1f%% (%,d of %,d); goodput %.2f requests/s%n", 100 * w.getAttainment(),
                    w.getNumSloMet(), w.getNumWithSlo(), w.getGoodputRequestsPerSecond());
        }
        if (w.getBoundLengthLatencyMs() != null) {
            out.printf("  worst latency of a bound-length request (SLA-b): %.0f ms%n", w.getBoundLengthLatencyMs());
        }
        out.printf("  mean batch: encode %.1f, decode %.1f; schedule %s v%d%n", w.getMeanEncodeBatchSize(),
                w.getMeanDecodeBatchSize(), w.getScheduleId(), w.getScheduleVersion());
    }
}
