package dev.exegpt.job.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import dev.exegpt.job.report.ReportInput.Run;
import dev.exegpt.job.report.ReportInput.Table;
import dev.exegpt.operators.core.AuditReport;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.InferenceResult;

/**
 * The HTML report of {@code exegpt audit}: one run per schedule id and version (the results name the schedule that
 * produced them, not its policy), and the audit's tables: per task, per schedule version, per hour, and the
 * slowest requests with the stage that spent their time.
 */
public final class AuditReportInput {

    private AuditReportInput() {}

    public static ReportInput of(String title, List<InferenceResult> results, int numSlowest) {
        AuditReport audit = new AuditReport(results);
        Map<String, List<InferenceResult>> bySchedule = new TreeMap<>();
        for (InferenceResult r : results) {
            bySchedule.computeIfAbsent(r.getScheduleId() + " v" + r.getScheduleVersion(), k -> new ArrayList<>()).add(r);
        }
        List<Run> runs = new ArrayList<>();
        bySchedule.forEach((label, rs) -> runs.add(new Run(label, rs)));
        List<Table> tables = List.of(groups("By task", audit.byTask()), groups("By schedule version", audit.bySchedule()),
                groups("By hour of completion (UTC)", audit.byHour()), slowest(audit.slowest(numSlowest)));
        return new ReportInput(title, runs, tables);
    }

    static Table groups(String caption, List<AuditReport.Group> groups) {
        List<List<String>> rows = new ArrayList<>();
        for (AuditReport.Group g : groups) {
            AuditWindow w = g.audit();
            rows.add(List.of(g.label(), Long.toString(w.getNumRequests()),
                    w.getAttainment() == null ? "-" : fmt("%.1f%%", 100 * w.getAttainment()),
                    fmt("%.0f", w.getEndToEndP50Ms()), fmt("%.0f", w.getEndToEndP99Ms()), fmt("%.0f", w.getTtftP50Ms()),
                    fmt("%.1f", w.getOutputTokensPerSecond()),
                    w.getEstimatorMeanAbsErrorTokens() == null ? "-" : fmt("%.1f", w.getEstimatorMeanAbsErrorTokens())));
        }
        return new Table(caption, List.of("group", "requests", "SLO attainment", "e2e p50 ms", "e2e p99 ms", "TTFT p50 ms",
                "output tokens/s", "estimator error (tokens, mean abs)"), rows);
    }

    static Table slowest(List<AuditReport.Slow> slowest) {
        List<List<String>> rows = new ArrayList<>();
        for (AuditReport.Slow s : slowest) {
            rows.add(List.of(s.requestId(), s.task(), fmt("%.0f", s.endToEndMs()), s.dominantStage(), fmt("%.0f", s.queueMs()),
                    fmt("%.0f", s.encodeMs()), fmt("%.0f", s.decodeMs()), Integer.toString(s.numOutputTokens())));
        }
        return new Table("The " + slowest.size() + " slowest requests and the stage that spent most of their time",
                List.of("request", "task", "e2e ms", "stage", "queue ms", "encode ms", "decode ms", "output tokens"), rows);
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
