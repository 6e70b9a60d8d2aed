package dev.exegpt.job.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import dev.exegpt.job.report.ReportInput.Run;
import dev.exegpt.job.report.ReportInput.Table;
import dev.exegpt.operators.core.AuditReport;
import dev.exegpt.schemas.InferenceResult;

/**
 * The HTML report of {@code exegpt audit}: one run per schedule id, in order of first arrival (the results name the
 * schedule that produced them, not its policy; a bench's rounds of one policy are versions of one schedule, so the run
 * is that policy's, with the bench's figures), and the audit's tables: per task, per schedule version, per hour, and
 * the slowest requests with the stage that spent their time. Every figure names its clock; the verdict's follows
 * {@code arrivals}.
 */
public final class AuditReportInput {

    private AuditReportInput() {}

    public static ReportInput of(String title, List<InferenceResult> results, int numSlowest, Arrivals arrivals) {
        AuditReport audit = new AuditReport(results);
        Map<String, List<InferenceResult>> bySchedule = new TreeMap<>();
        for (InferenceResult r : results) {
            bySchedule.computeIfAbsent(r.getScheduleId().isEmpty() ? "(no schedule id)" : r.getScheduleId(), k -> new ArrayList<>()).add(r);
        }
        List<Run> runs = new ArrayList<>();
        bySchedule.forEach((label, rs) -> runs.add(new Run(label, rs)));
        // In order of first arrival: a bench's policies come in the order (and colours) of its own report.
        runs.sort(java.util.Comparator.comparingLong(r -> ReportSeries.originEpochMs(r.results())));
        List<Table> tables = List.of(groups("By task", "group", audit.byTask(), arrivals),
                groups("By schedule version", "group", audit.bySchedule(), arrivals),
                groups("By hour of completion (UTC)", "group", audit.byHour(), arrivals), slowest(audit.slowest(numSlowest)));
        return new ReportInput(title, String.format(Locale.ROOT, "%d results, one run per schedule id.", results.size()), arrivals,
                runs, tables);
    }

    /** The figures of the audit's groups, as printed by {@code exegpt audit} and shown in its report. */
    public static Table groups(String title, String labelHeader, List<AuditReport.Group> groups, Arrivals arrivals) {
        List<FigureTable.Line> lines = new ArrayList<>();
        for (AuditReport.Group g : groups) {
            lines.add(new FigureTable.Line(g.label(), "", RunFigures.of(g.results())));
        }
        List<Figure> figures = new ArrayList<>(List.of(Figure.requests(), Figure.span(), Figure.requestsPerSecond()));
        figures.addAll(Figure.slo(arrivals));
        figures.addAll(List.of(Figure.ttft(50), Figure.outputTokensPerSecond(), Figure.estimatorError()));
        return FigureTable.of(title, "", labelHeader, lines, figures);
    }

    static Table slowest(List<AuditReport.Slow> slowest) {
        List<List<String>> rows = new ArrayList<>();
        for (AuditReport.Slow s : slowest) {
            rows.add(List.of(s.requestId(), s.task(), fmt("%.0f", s.endToEndMs()), s.dominantStage(), fmt("%.0f", s.queueMs()),
                    fmt("%.0f", s.encodeMs()), fmt("%.0f", s.decodeMs()), Integer.toString(s.numOutputTokens())));
        }
        return Table.plain("The " + slowest.size() + " slowest requests", "Slowest from arrival, with the stage that spent"
                        + " most of their time.",
                List.of("request", "task", "ms from arrival", "stage", "queue ms", "encode ms", "decode ms", "output tokens"), rows);
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
