package dev.exegpt.job.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import dev.exegpt.job.report.ReportInput.Table;

/**
 * The SLO report as one self-contained HTML file (inline CSS, SVG and a few lines of script; nothing fetched): the
 * verdict clock for the run's arrivals, a summary per run, the caller's tables, then the charts ({@link ReportCharts}).
 * Every latency and attainment figure names its clock, and every figure of a run comes from {@link RunFigures}, so
 * the summary and the caller's tables agree where they show the same quantity. The markup is XHTML-compatible, so it
 * also parses as XML. After load, the page's script counts the marks each chart rendered and writes the count into
 * the chart's {@code data-drawn} attribute (with its position in {@code data-rect}), which the report's browser test reads.
 */
public final class HtmlReport {

    private HtmlReport() {}

    /** Writes the report of {@code input} to {@code file} (UTF-8), replacing it. */
    public static void write(Path file, ReportInput input) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, render(input, Instant.now()), StandardCharsets.UTF_8);
    }

    /** The page's markup. */
    static String render(ReportInput input, Instant generatedAt) {
        SloClock verdict = input.arrivals().verdict();
        StringBuilder h = new StringBuilder(1 << 16);
        h.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>")
                .append("<title>").append(Xml.escape(input.title())).append("</title><style>").append(ReportPage.CSS)
                .append("</style></head><body>\n<h1>").append(Xml.escape(input.title())).append("</h1>\n");
        if (!input.description().isBlank()) {
            h.append("<p class=\"lead\">").append(Xml.escape(input.description())).append("</p>\n");
        }
        h.append("<p class=\"verdict\">Verdict: SLO attainment ").append(verdict.label()).append(". ")
                .append(Xml.escape(capitalized(input.arrivals().why()))).append(".</p>\n<p class=\"meta\">")
                .append(input.runs().size()).append(" run(s), ")
                .append(input.runs().stream().mapToInt(r -> r.results().size()).sum()).append(" results; generated ")
                .append(generatedAt.truncatedTo(ChronoUnit.SECONDS)).append(". Every latency names its clock: from arrival")
                .append(" (the request's Kafka record timestamp) or from encode start. Times on the charts are seconds since")
                .append(" each run's first arrival.</p>\n");
        section(h, "summary", "Summary per run", FigureTable.ofRuns("Summary per run", FigureTable.spanNote(), "run", input.runs(),
                Figure.summary(input.arrivals())));
        for (Table t : input.tables()) {
            section(h, "table", t.title(), t);
        }
        input.charts().forEach(h::append);
        h.append(ReportCharts.cdf(input.runs(), verdict)).append(ReportCharts.attainment(input.runs(), verdict))
                .append(ReportCharts.batchSizes(input.runs())).append(ReportCharts.timelines(input.runs(), input.changes()));
        h.append("<section class=\"derived\"><h2>How the charts are derived</h2>\n").append(ReportPage.DERIVED).append("</section>\n");
        return h.append("<script>//<![CDATA[\n").append(ReportPage.SCRIPT).append("\n//]]></script>\n</body></html>\n").toString();
    }

    private static void section(StringBuilder h, String kind, String heading, Table t) {
        h.append("<section class=\"").append(kind).append("\"><h2>").append(Xml.escape(heading)).append("</h2>\n");
        if (!t.note().isBlank()) {
            h.append("<p class=\"note\">").append(Xml.escape(t.note())).append("</p>\n");
        }
        h.append(table(t)).append("</section>\n");
    }

    /**
     * A table; a column of a run's figure names it in {@code data-quantity}, a row of a run names the run in
     * {@code data-run}, so that a check can see that two tables agree on the same quantity of the same run.
     */
    static String table(Table t) {
        StringBuilder s = new StringBuilder("<div class=\"scroll\"><table><thead><tr>");
        for (Table.Column c : t.columns()) {
            s.append("<th").append(c.quantity().isEmpty() ? "" : " data-quantity=\"" + Xml.escape(c.quantity()) + "\"")
                    .append(c.header().endsWith("(verdict)") ? " class=\"verdict\"" : "").append('>')
                    .append(Xml.escape(c.header())).append("</th>");
        }
        s.append("</tr></thead><tbody>");
        for (Table.Row row : t.rows()) {
            s.append(row.run().isEmpty() ? "<tr>" : "<tr data-run=\"" + Xml.escape(row.run()) + "\">");
            for (int i = 0; i < row.cells().size(); i++) {
                s.append(t.columns().get(i).header().endsWith("(verdict)") ? "<td class=\"verdict\">" : "<td>")
                        .append(Xml.escape(row.cells().get(i))).append("</td>");
            }
            s.append("</tr>");
        }
        return s.append("</tbody></table></div>\n").toString();
    }

    private static String capitalized(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
