package dev.exegpt.job.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;

import dev.exegpt.job.report.ReportInput.Run;
import dev.exegpt.job.report.ReportInput.Table;
import dev.exegpt.job.report.ReportSeries.Block;
import dev.exegpt.job.report.SvgChart.Axis;
import dev.exegpt.job.report.SvgChart.Marker;
import dev.exegpt.job.report.SvgChart.Series;
import dev.exegpt.operators.core.AuditReport;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.InferenceResult;

/**
 * The SLO report as one self-contained HTML file (inline CSS, SVG and a few lines of script; nothing fetched): a
 * summary per run, the caller's tables, the end-to-end latency CDF per run with the SLO marked, SLO attainment over
 * time, batch sizes over time, and the execution timeline per device group. The markup is XHTML-compatible, so it
 * also parses as XML. After load, the page's script counts the marks each chart rendered and writes the count into
 * the chart's {@code data-drawn} attribute (with its position in {@code data-rect}), which the report's browser test reads.
 */
public final class HtmlReport {

    /** Series colours, in run order (distinct under the common colour-vision deficiencies where possible). */
    static final List<String> COLORS = List.of("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
            "#e377c2", "#17becf");
    /** Time series are cut into about this many windows. */
    static final int NUM_WINDOWS = 30;
    /** At most this many distinct SLOs are marked on the CDF. */
    static final int MAX_SLO_MARKERS = 3;
    /** At most this many points per CDF line (a long run's CDF is thinned evenly by rank). */
    static final int MAX_CDF_POINTS = 2_000;
    /** At most this many encode blocks are drawn per timeline; a longer run shows its beginning. */
    static final int MAX_TIMELINE_BLOCKS = 3_000;

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
        StringBuilder h = new StringBuilder(1 << 16);
        h.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>")
                .append("<title>").append(Xml.escape(input.title())).append("</title><style>").append(ReportPage.CSS)
                .append("</style></head><body>\n<h1>").append(Xml.escape(input.title())).append("</h1>\n<p class=\"meta\">")
                .append(input.runs().size()).append(" run(s), ")
                .append(input.runs().stream().mapToInt(r -> r.results().size()).sum()).append(" results; generated ")
                .append(generatedAt.truncatedTo(ChronoUnit.SECONDS)).append(". Latencies are measured from each request's ")
                .append("Kafka record timestamp; times on the charts are seconds since each run's first arrival.</p>\n");
        section(h, "summary", "Summary per run", summaryTable(input.runs()));
        for (Table t : input.tables()) {
            section(h, "table", t.caption(), table(t));
        }
        section(h, "cdf", "End-to-end latency (CDF)", legend(input.runs(), false) + cdf(input.runs()));
        section(h, "attainment", "SLO attainment over time", legend(input.runs(), false) + attainment(input.runs()));
        section(h, "batch", "Batch sizes over time", legend(input.runs(), true) + batchSizes(input.runs()));
        StringBuilder timelines = new StringBuilder();
        for (int i = 0; i < input.runs().size(); i++) {
            timelines.append(timeline(input.runs().get(i), i));
        }
        section(h, "timeline", "Execution timeline per device group", timelines.toString());
        section(h, "derived", "How the charts are derived", ReportPage.DERIVED);
        return h.append("<script>//<![CDATA[\n").append(ReportPage.SCRIPT).append("\n//]]></script>\n</body></html>\n").toString();
    }

    private static void section(StringBuilder h, String id, String heading, String body) {
        h.append("<section class=\"").append(id).append("\"><h2>").append(Xml.escape(heading)).append("</h2>\n").append(body)
                .append("</section>\n");
    }

    private static String summaryTable(List<Run> runs) {
        List<List<String>> rows = new ArrayList<>();
        for (Run run : runs) {
            if (run.results().isEmpty()) {
                rows.add(List.of(run.label(), "0", "-", "-", "-", "-", "-", "-", "-", "-", "-"));
                continue;
            }
            AuditWindow w = new AuditReport(run.results()).overall();
            rows.add(List.of(run.label(), Long.toString(w.getNumRequests()),
                    w.getAttainment() == null ? "-" : fmt("%.1f%% (%d/%d)", 100 * w.getAttainment(), w.getNumSloMet(), w.getNumWithSlo()),
                    fmt("%.0f", w.getEndToEndP50Ms()), fmt("%.0f", w.getEndToEndP90Ms()), fmt("%.0f", w.getEndToEndP99Ms()),
                    fmt("%.0f", w.getTtftP50Ms()), fmt("%.1f", w.getTpotP50Ms()), fmt("%.2f", w.getRequestsPerSecond()),
                    fmt("%.1f", w.getMeanEncodeBatchSize()), fmt("%.1f", w.getMeanDecodeBatchSize())));
        }
        return table(new Table("summary", List.of("run", "requests", "SLO attainment", "e2e p50 ms", "e2e p90 ms",
                "e2e p99 ms", "TTFT p50 ms", "TPOT p50 ms", "requests/s", "mean encode batch", "mean decode batch"), rows));
    }

    private static String table(Table t) {
        StringBuilder s = new StringBuilder("<table><thead><tr>");
        t.header().forEach(c -> s.append("<th>").append(Xml.escape(c)).append("</th>"));
        s.append("</tr></thead><tbody>");
        for (List<String> row : t.rows()) {
            s.append("<tr>");
            row.forEach(c -> s.append("<td>").append(Xml.escape(c)).append("</td>"));
            s.append("</tr>");
        }
        return s.append("</tbody></table>\n").toString();
    }

    private static String legend(List<Run> runs, boolean batchKinds) {
        StringBuilder s = new StringBuilder("<ul class=\"legend\">");
        for (int i = 0; i < runs.size(); i++) {
            String label = runs.get(i).label();
            if (batchKinds) {
                swatch(s, color(i), false, label + ": encode (per step)");
                swatch(s, color(i), true, label + ": decode (per request)");
            } else {
                swatch(s, color(i), false, label);
            }
        }
        return s.append("</ul>\n").toString();
    }

    private static void swatch(StringBuilder s, String color, boolean dashed, String label) {
        s.append("<li><span class=\"swatch").append(dashed ? " dashed" : "").append("\" style=\"border-color:").append(color)
                .append("\"></span>").append(Xml.escape(label)).append("</li>");
    }

    private static String cdf(List<Run> runs) {
        List<Series> series = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            series.add(new Series(runs.get(i).label(), color(i), false, true,
                    ReportSeries.thin(ReportSeries.latencyCdf(runs.get(i).results()), MAX_CDF_POINTS)));
        }
        double maxMs = ReportSeries.max(results(runs), r -> r.getLatency().getEndToEndMs());
        TreeSet<Long> slos = new TreeSet<>();
        results(runs).forEach(rs -> rs.stream().map(InferenceResult::getSloLatencyMs).filter(Objects::nonNull).forEach(slos::add));
        List<Marker> markers = new ArrayList<>();
        List<String> offChart = new ArrayList<>();
        double xMax = maxMs * 1.02;
        if (slos.size() > MAX_SLO_MARKERS) {
            // Per-request SLOs: a line each would hide the curves; the range goes under the chart instead.
            offChart.add(slos.size() + " distinct SLOs from " + slos.first() + " to " + slos.last() + " ms, not marked");
            slos.clear();
        }
        for (long slo : slos) {
            if (slo <= 2 * maxMs) {
                xMax = Math.max(xMax, slo * 1.05);
                markers.add(new Marker("SLO " + slo + " ms", slo));
            } else {
                offChart.add(slo + " ms");
            }
        }
        String svg = SvgChart.lines("cdf", new Axis("end-to-end latency (ms)", 0, Math.max(1, xMax)),
                new Axis("share of requests (%)", 0, 100), percent(series), markers);
        String note = offChart.isEmpty() ? "" : "<p class=\"note\">SLO not drawn (beyond twice the slowest request, or too "
                + "many): " + Xml.escape(String.join(", ", offChart)) + ".</p>\n";
        return svg + "\n" + note;
    }

    private static String attainment(List<Run> runs) {
        long windowMs = windowMs(runs);
        List<Series> series = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            List<InferenceResult> rs = runs.get(i).results();
            series.add(new Series(runs.get(i).label(), color(i), false, false,
                    ReportSeries.attainment(rs, ReportSeries.originEpochMs(rs), windowMs)));
        }
        return SvgChart.lines("attainment", timeAxis(runs), new Axis("requests within their SLO (%)", 0, 100), series, List.of())
                + "\n<p class=\"note\">Per window of " + windowMs + " ms of completion time; results without an SLO are left out.</p>\n";
    }

    private static String batchSizes(List<Run> runs) {
        long windowMs = windowMs(runs);
        List<Series> series = new ArrayList<>();
        double maxBatch = 1;
        for (int i = 0; i < runs.size(); i++) {
            List<InferenceResult> rs = runs.get(i).results();
            long origin = ReportSeries.originEpochMs(rs);
            Series encode = new Series(runs.get(i).label() + ": encode", color(i), false, false,
                    ReportSeries.encodeBatchSize(rs, origin, windowMs));
            Series decode = new Series(runs.get(i).label() + ": decode", color(i), true, false,
                    ReportSeries.decodeBatchSize(rs, origin, windowMs));
            for (Series s : List.of(encode, decode)) {
                maxBatch = Math.max(maxBatch, s.points().stream().mapToDouble(ReportSeries.Point::y).max().orElse(0));
                series.add(s);
            }
        }
        return SvgChart.lines("batch", timeAxis(runs), new Axis("batch size (sequences)", 0, Math.ceil(maxBatch * 1.1)), series,
                List.of()) + "\n<p class=\"note\">Mean per window of " + windowMs + " ms: encode steps by start time, "
                + "decode batch (each request's mean over its decode iterations) by completion time.</p>\n";
    }

    private static String timeline(Run run, int index) {
        long origin = ReportSeries.originEpochMs(run.results());
        List<Block> encode = ReportSeries.encodeBlocks(run.results(), origin);
        List<Block> decode = ReportSeries.decodeSpans(run.results(), origin);
        double maxS = ReportSeries.spanMs(run.results()) / 1000.0;
        String cut = "";
        if (encode.size() > MAX_TIMELINE_BLOCKS) {
            double[] starts = encode.stream().mapToDouble(Block::startS).sorted().toArray();
            maxS = starts[MAX_TIMELINE_BLOCKS];
            double end = maxS;
            encode = encode.stream().filter(b -> b.startS() < end).toList();
            decode = decode.stream().filter(b -> b.startS() < end).toList();
            cut = fmt(" (the first %.1f s: %d encode steps in all)", end, starts.length);
        }
        return "<h3>" + Xml.escape(run.label()) + Xml.escape(cut) + "</h3>\n"
                + SvgChart.timeline("timeline-" + index, encode, decode, Math.max(maxS, 0.001), color(index)) + "\n";
    }

    private static Axis timeAxis(List<Run> runs) {
        double maxS = runs.stream().filter(r -> !r.results().isEmpty()).mapToLong(r -> ReportSeries.spanMs(r.results()))
                .max().orElse(1) / 1000.0;
        return new Axis("time since the run's first arrival (s)", 0, maxS * 1.02);
    }

    private static long windowMs(List<Run> runs) {
        long span = runs.stream().filter(r -> !r.results().isEmpty()).mapToLong(r -> ReportSeries.spanMs(r.results())).max().orElse(1);
        return ReportSeries.windowMs(span, NUM_WINDOWS);
    }

    private static List<Series> percent(List<Series> shares) {
        return shares.stream().map(s -> new Series(s.label(), s.color(), s.dashed(), s.steps(),
                s.points().stream().map(p -> new ReportSeries.Point(p.x(), 100 * p.y())).toList())).toList();
    }

    private static List<List<InferenceResult>> results(List<Run> runs) {
        return runs.stream().map(Run::results).toList();
    }

    private static String color(int i) {
        return COLORS.get(i % COLORS.size());
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
