package dev.exegpt.job.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;

import dev.exegpt.job.report.ReportInput.Run;
import dev.exegpt.job.report.ReportSeries.Block;
import dev.exegpt.job.report.SvgChart.Axis;
import dev.exegpt.job.report.SvgChart.Marker;
import dev.exegpt.job.report.SvgChart.Series;
import dev.exegpt.schemas.InferenceResult;

/**
 * The report's charts, each a section with a short heading, a legend, the SVG with labelled axes (units in brackets)
 * and a one-line caption that says what a point is: the latency CDF and SLO attainment over time on the verdict
 * clock, batch sizes over time, and the execution timeline per run. Time series draw only the windows that measured
 * something: a window without completions is a gap in the line, not a segment across it.
 */
public final class ReportCharts {

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

    private ReportCharts() {}

    static String cdf(List<Run> runs, SloClock clock) {
        List<Series> series = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            series.add(new Series(runs.get(i).label(), color(i), false, true, 0,
                    ReportSeries.thin(ReportSeries.latencyCdf(runs.get(i).results(), clock), MAX_CDF_POINTS)));
        }
        double maxMs = runs.stream().flatMap(r -> r.results().stream()).mapToDouble(clock::latencyMs).max().orElse(0);
        TreeSet<Long> slos = new TreeSet<>();
        runs.forEach(r -> r.results().stream().map(InferenceResult::getSloLatencyMs).filter(Objects::nonNull).forEach(slos::add));
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
        String svg = SvgChart.lines("cdf", new Axis("latency " + clock.label() + " (ms)", 0, Math.max(1, xMax)),
                new Axis("share of requests (%)", 0, 100), percent(series), markers);
        String note = offChart.isEmpty() ? "" : "<p class=\"note\">SLO not drawn (beyond twice the slowest request, or too "
                + "many): " + Xml.escape(String.join(", ", offChart)) + ".</p>\n";
        return figure("cdf", "Latency " + clock.label() + " (CDF)", legend(runs, false), svg,
                "A point: the share of a run's requests whose latency " + clock.label() + " was at most x ms; dotted: the SLO.")
                + note;
    }

    static String attainment(List<Run> runs, SloClock clock) {
        long windowMs = windowMs(runs);
        List<Series> series = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            List<InferenceResult> rs = runs.get(i).results();
            series.add(new Series(runs.get(i).label(), color(i), false, false, windowMs / 1000.0,
                    ReportSeries.attainment(rs, clock, ReportSeries.originEpochMs(rs), windowMs)));
        }
        String svg = SvgChart.lines("attainment", timeAxis(runs), new Axis("within SLO " + clock.label() + " (%)", 0, 100),
                series, List.of());
        return figure("attainment", "SLO attainment " + clock.label() + " over time", legend(runs, false),
                window(svg, windowMs), "A point: of the requests with an SLO that completed in a window of " + seconds(windowMs)
                        + " s ending at x, the share within it " + clock.label() + "; no point where none completed.");
    }

    static String batchSizes(List<Run> runs) {
        long windowMs = windowMs(runs);
        List<Series> series = new ArrayList<>();
        double maxBatch = 1;
        for (int i = 0; i < runs.size(); i++) {
            List<InferenceResult> rs = runs.get(i).results();
            long origin = ReportSeries.originEpochMs(rs);
            Series encode = new Series(runs.get(i).label() + ": encode", color(i), false, false, windowMs / 1000.0,
                    ReportSeries.encodeBatchSize(rs, origin, windowMs));
            Series decode = new Series(runs.get(i).label() + ": decode", color(i), true, false, windowMs / 1000.0,
                    ReportSeries.decodeBatchSize(rs, origin, windowMs));
            for (Series s : List.of(encode, decode)) {
                maxBatch = Math.max(maxBatch, s.points().stream().mapToDouble(ReportSeries.Point::y).max().orElse(0));
                series.add(s);
            }
        }
        String svg = SvgChart.lines("batch", timeAxis(runs), new Axis("batch size (sequences)", 0, Math.ceil(maxBatch * 1.1)),
                series, List.of());
        return figure("batch", "Batch sizes over time", legend(runs, true), window(svg, windowMs), "A point: the mean over a window of "
                + seconds(windowMs) + " s ending at x of the encode steps that started in it (solid), or of the decode batch of"
                + " the requests that completed in it (dashed).");
    }

    static String timelines(List<Run> runs, List<ScheduleChange> changes) {
        StringBuilder s = new StringBuilder("<section class=\"timeline\"><h2>Execution timeline per device group</h2>\n");
        for (int i = 0; i < runs.size(); i++) {
            s.append(timeline(runs.get(i), i, changes));
        }
        return s.append("</section>\n").toString();
    }

    private static String timeline(Run run, int index, List<ScheduleChange> changes) {
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
            cut = fmt("The first %.1f s of %d encode steps. ", end, starts.length);
        }
        java.util.Set<String> ids = new java.util.HashSet<>();
        run.results().forEach(r -> ids.add(r.getScheduleId()));
        List<ScheduleChange> ours = changes.stream().filter(c -> ids.contains(c.scheduleId()))
                .sorted(java.util.Comparator.comparingLong(ScheduleChange::atEpochMs)).toList();
        List<SvgChart.ChangeMarker> markers = new ArrayList<>();
        StringBuilder listed = new StringBuilder();
        for (ScheduleChange c : ours) {
            double atS = (c.atEpochMs() - origin) / 1000.0;
            markers.add(new SvgChart.ChangeMarker(atS, "v" + c.version(), c.describe()));
            listed.append("<li>").append(Xml.escape(fmt("at %.1f s, ", atS) + c.describe())).append("</li>");
        }
        String changeNote = ours.isEmpty() ? "" : " A dashed line: a schedule version the control loop decided, listed below with"
                + " its reason.";
        return "<figure><h3>" + Xml.escape(run.label()) + "</h3>\n"
                + SvgChart.timeline("timeline-" + index, encode, decode, Math.max(maxS, 0.001), color(index), markers)
                + "\n<figcaption>" + Xml.escape(cut) + "A solid block: one encode step of the device group, as wide as it took;"
                + " a light span: time in which the group had at least one sequence decoding." + Xml.escape(changeNote)
                + (ours.isEmpty() ? "" : "<ul class=\"changes\">" + listed + "</ul>") + "</figcaption></figure>\n";
    }

    /**
     * Throughput versus the latency bound per policy (the paper's Figure 6 from measurements): one line per policy
     * through its goodput at each bound (NaN: no schedule met it, no point). The bounds stand at equal steps along x, in
     * ascending order (they span 100x and more: on a linear axis the tight ones, where policies differ most, would
     * crowd together); a dotted line marks each with its name and ms.
     *
     * @param boundLabels names of the bounds, ascending ("tightest", "p10", ..., "inf")
     * @param boundMs     the bounds, ms (infinite for none)
     * @param goodput     per policy, goodput (req/s) at each bound, in the order of the bounds
     */
    public static String boundSweep(List<String> boundLabels, double[] boundMs, java.util.Map<String, double[]> goodput, String caption) {
        double[] x = java.util.stream.IntStream.range(0, boundMs.length).mapToDouble(k -> k + 1).toArray();
        List<Series> series = new ArrayList<>();
        List<Run> legendRuns = new ArrayList<>();
        double maxY = 0;
        int i = 0;
        for (java.util.Map.Entry<String, double[]> e : goodput.entrySet()) {
            List<ReportSeries.Point> points = new ArrayList<>();
            for (int k = 0; k < x.length; k++) {
                double y = e.getValue()[k];
                if (Double.isNaN(y)) continue;
                points.add(new ReportSeries.Point(x[k], y));
                maxY = Math.max(maxY, y);
            }
            series.add(new Series(e.getKey(), color(i++), false, false, 0, points));
            legendRuns.add(new Run(e.getKey(), List.of()));
        }
        List<Marker> markers = new ArrayList<>();
        for (int k = 0; k < x.length; k++) {
            // Short enough that neighbours do not overlap: "2x-tightest" is "2x" beside "tightest".
            String name = boundLabels.get(k).replace("x-tightest", "x");
            markers.add(new Marker(name + (Double.isFinite(boundMs[k]) ? fmt(" %.0f", boundMs[k]) : ""), x[k]));
        }
        String svg = SvgChart.lines("bound-sweep", new Axis("latency bound: its name and ms at each dotted line (equal steps, tightest to none)", 0.5,
                x.length + 0.5),
                new Axis("goodput (requests/s within the bound)", 0, Math.max(1e-3, maxY * 1.1)), series, markers);
        return figure("chart", "Throughput versus the latency bound", legend(legendRuns, false), svg, caption);
    }

    private static String figure(String kind, String heading, String legend, String svg, String caption) {
        return "<section class=\"" + kind + "\"><h2>" + Xml.escape(heading) + "</h2>\n<figure>" + legend + svg
                + "\n<figcaption>" + Xml.escape(caption) + "</figcaption></figure>\n</section>\n";
    }

    /** The chart with its window length, s, in {@code data-window-s}: no line of it spans more than one window. */
    private static String window(String svg, long windowMs) {
        return svg.replaceFirst("<svg ", "<svg data-window-s=\"" + seconds(windowMs) + "\" ");
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
        return shares.stream().map(s -> new Series(s.label(), s.color(), s.dashed(), s.steps(), s.windowX(),
                s.points().stream().map(p -> new ReportSeries.Point(p.x(), 100 * p.y())).toList())).toList();
    }

    private static String seconds(long ms) {
        String s = fmt("%.1f", ms / 1000.0);
        return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
    }

    private static String color(int i) {
        return COLORS.get(i % COLORS.size());
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
