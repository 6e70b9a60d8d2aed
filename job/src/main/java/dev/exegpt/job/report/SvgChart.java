package dev.exegpt.job.report;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import dev.exegpt.job.report.ReportSeries.Block;
import dev.exegpt.job.report.ReportSeries.Point;

/**
 * Inline SVG charts: lines over numeric axes and the execution timeline. Each chart is an {@code <svg>} with a
 * {@code data-chart} name, and everything that shows data carries the class {@code mark}, so a check in the page
 * (and the report's test) can tell a chart that drew from one that did not.
 */
final class SvgChart {

    /**
     * One line: its legend label, colour (CSS), whether dashed, whether drawn as steps (a CDF), and for a series of
     * windows their length in x units: two points further apart than that are not joined, because a window between
     * them measured nothing (0 joins every point).
     */
    record Series(String label, String color, boolean dashed, boolean steps, double windowX, List<Point> points) {}

    /** An axis: its label with the unit, and its range. */
    record Axis(String label, double min, double max) {
        Axis {
            if (!(max > min)) {
                max = min + 1;
            }
        }
    }

    /** A vertical reference line at x (e.g. the SLO). */
    record Marker(String label, double x) {}

    static final int WIDTH = 760;
    static final int HEIGHT = 300;
    private static final int LEFT = 64;
    private static final int RIGHT = 20;
    private static final int TOP = 16;
    private static final int BOTTOM = 46;
    private static final int LANE_HEIGHT = 24;

    private SvgChart() {}

    /**
     * A line chart with axes, ticks and labelled reference lines; the legend is the caller's. The {@code svg} says how
     * its x axis maps to pixels ({@code data-x}: min, max, left and right pixel), so a check can read the lines back.
     */
    static String lines(String name, Axis x, Axis y, List<Series> series, List<Marker> markers) {
        StringBuilder svg = open(name, HEIGHT);
        svg.insert(svg.length() - 1, " data-x=\"" + Xml.num(x.min()) + "," + Xml.num(x.max()) + "," + LEFT + "," + (WIDTH - RIGHT) + "\"");
        frame(svg, x, y, HEIGHT);
        for (Marker m : markers) {
            if (m.x() < x.min() || m.x() > x.max()) {
                continue;
            }
            double px = px(x, m.x());
            svg.append("<line class=\"marker\" x1=\"").append(Xml.num(px)).append("\" y1=\"").append(TOP)
                    .append("\" x2=\"").append(Xml.num(px)).append("\" y2=\"").append(HEIGHT - BOTTOM).append("\"/>")
                    .append("<text class=\"marker-label\" x=\"").append(Xml.num(px + 4)).append("\" y=\"").append(TOP + 12)
                    .append("\">").append(Xml.escape(m.label())).append("</text>");
        }
        for (Series s : series) {
            if (s.points().isEmpty()) {
                continue;
            }
            svg.append("<path class=\"mark series\" data-series=\"").append(Xml.escape(s.label())).append("\" stroke=\"")
                    .append(Xml.escape(s.color())).append('"').append(s.dashed() ? " stroke-dasharray=\"6 4\"" : "")
                    .append(" d=\"").append(path(s, x, y, HEIGHT)).append("\"/>");
        }
        return svg.append("</svg>").toString();
    }

    /**
     * The execution timeline: one lane per executor, the decode activity as light spans and the encode
     * micro-batches as solid blocks over them; the time axis runs from 0 to {@code maxS} seconds.
     */
    /** A vertical line at {@code atS} on a timeline, labelled {@code label}, with {@code title} as its tooltip. */
    record ChangeMarker(double atS, String label, String title) {}

    static String timeline(String name, List<Block> encode, List<Block> decode, double maxS, String color) {
        return timeline(name, encode, decode, maxS, color, List.of());
    }

    static String timeline(String name, List<Block> encode, List<Block> decode, double maxS, String color, List<ChangeMarker> markers) {
        Set<String> lanes = new LinkedHashSet<>();
        encode.forEach(b -> lanes.add(b.lane()));
        decode.forEach(b -> lanes.add(b.lane()));
        List<String> laneList = new ArrayList<>(lanes.stream().sorted().toList());
        int height = TOP + BOTTOM + Math.max(1, laneList.size()) * LANE_HEIGHT;
        Axis x = new Axis("time since the run's first arrival (s)", 0, maxS);
        StringBuilder svg = open(name, height);
        xAxis(svg, x, height);
        for (int i = 0; i < laneList.size(); i++) {
            int top = TOP + i * LANE_HEIGHT;
            svg.append("<text class=\"lane\" x=\"").append(LEFT - 6).append("\" y=\"").append(top + LANE_HEIGHT / 2 + 4)
                    .append("\">").append(Xml.escape(laneList.get(i))).append("</text>");
        }
        for (Block b : decode) {
            block(svg, x, b, TOP + laneList.indexOf(b.lane()) * LANE_HEIGHT + 3, LANE_HEIGHT - 6, "decode", color,
                    b.numRequests() + " request(s) decoding");
        }
        for (Block b : encode) {
            block(svg, x, b, TOP + laneList.indexOf(b.lane()) * LANE_HEIGHT + 6, LANE_HEIGHT - 12, "encode", color,
                    "encode of " + b.numRequests() + " request(s), " + Math.round(1000 * (b.endS() - b.startS())) + " ms");
        }
        for (ChangeMarker m : markers) {
            if (m.atS() < 0 || m.atS() > maxS) continue;
            double px = px(x, m.atS());
            svg.append("<g class=\"change\"><title>").append(Xml.escape(m.title())).append("</title><line class=\"marker\" x1=\"")
                    .append(Xml.num(px)).append("\" y1=\"").append(TOP).append("\" x2=\"").append(Xml.num(px)).append("\" y2=\"")
                    .append(height - BOTTOM).append("\"/><text class=\"marker-label\" x=\"").append(Xml.num(px + 4))
                    .append("\" y=\"").append(TOP + 12).append("\">").append(Xml.escape(m.label())).append("</text></g>");
        }
        return svg.append("</svg>").toString();
    }

    /** About {@code n} round tick values (1, 2 or 5 x 10^k apart) covering [min, max]. */
    static List<Double> ticks(double min, double max, int n) {
        double raw = (max - min) / Math.max(1, n);
        double decade = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / decade < 1.5 ? decade : raw / decade < 3.5 ? 2 * decade : raw / decade < 7.5 ? 5 * decade : 10 * decade;
        List<Double> out = new ArrayList<>();
        for (double v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) {
            out.add(Math.abs(v) < step * 1e-9 ? 0.0 : v);
        }
        return out;
    }

    private static StringBuilder open(String name, int height) {
        return new StringBuilder(4096).append("<svg xmlns=\"http://www.w3.org/2000/svg\" data-chart=\"").append(Xml.escape(name))
                .append("\" width=\"").append(WIDTH).append("\" height=\"").append(height).append("\" viewBox=\"0 0 ")
                .append(WIDTH).append(' ').append(height).append("\">");
    }

    private static void frame(StringBuilder svg, Axis x, Axis y, int height) {
        xAxis(svg, x, height);
        for (double t : ticks(y.min(), y.max(), 5)) {
            double py = py(y, t, height);
            svg.append("<line class=\"grid\" x1=\"").append(LEFT).append("\" y1=\"").append(Xml.num(py)).append("\" x2=\"")
                    .append(WIDTH - RIGHT).append("\" y2=\"").append(Xml.num(py)).append("\"/>")
                    .append("<text class=\"tick y\" x=\"").append(LEFT - 6).append("\" y=\"").append(Xml.num(py + 4)).append("\">")
                    .append(label(t)).append("</text>");
        }
        svg.append("<line class=\"axis\" x1=\"").append(LEFT).append("\" y1=\"").append(TOP).append("\" x2=\"").append(LEFT)
                .append("\" y2=\"").append(height - BOTTOM).append("\"/>")
                .append("<text class=\"axis-label\" transform=\"translate(14,").append((TOP + height - BOTTOM) / 2)
                .append(") rotate(-90)\">").append(Xml.escape(y.label())).append("</text>");
    }

    private static void xAxis(StringBuilder svg, Axis x, int height) {
        int base = height - BOTTOM;
        svg.append("<line class=\"axis\" x1=\"").append(LEFT).append("\" y1=\"").append(base).append("\" x2=\"")
                .append(WIDTH - RIGHT).append("\" y2=\"").append(base).append("\"/>");
        for (double t : ticks(x.min(), x.max(), 8)) {
            double px = px(x, t);
            svg.append("<line class=\"axis\" x1=\"").append(Xml.num(px)).append("\" y1=\"").append(base).append("\" x2=\"")
                    .append(Xml.num(px)).append("\" y2=\"").append(base + 4).append("\"/>")
                    .append("<text class=\"tick x\" x=\"").append(Xml.num(px)).append("\" y=\"").append(base + 17).append("\">")
                    .append(label(t)).append("</text>");
        }
        svg.append("<text class=\"axis-label x\" x=\"").append((LEFT + WIDTH - RIGHT) / 2).append("\" y=\"").append(height - 8)
                .append("\">").append(Xml.escape(x.label())).append("</text>");
    }

    private static void block(StringBuilder svg, Axis x, Block b, int top, int h, String kind, String color, String tip) {
        double x0 = px(x, Math.max(x.min(), b.startS()));
        double w = Math.max(1, px(x, Math.min(x.max(), b.endS())) - x0);   // at least a pixel, so a short step shows
        svg.append("<rect class=\"mark block ").append(kind).append("\" x=\"").append(Xml.num(x0)).append("\" y=\"").append(top)
                .append("\" width=\"").append(Xml.num(w)).append("\" height=\"").append(h).append("\" fill=\"")
                .append(Xml.escape(color)).append("\"><title>").append(Xml.escape(b.lane() + ": " + tip)).append("</title></rect>");
    }

    /** The series as one path: a subpath per run of joined points; a lone point is a dot (a round cap on a tiny dash). */
    private static String path(Series s, Axis x, Axis y, int height) {
        StringBuilder d = new StringBuilder();
        double prevY = py(y, y.min(), height);
        Point prev = null;
        int inSubpath = 0;
        for (Point p : s.points()) {
            double px = px(x, clamp(p.x(), x.min(), x.max()));
            double py = py(y, clamp(p.y(), y.min(), y.max()), height);
            boolean joined = prev != null && (s.windowX() <= 0 || p.x() - prev.x() <= s.windowX() * (1 + 1e-9));
            if (!joined) {
                if (inSubpath == 1 && !s.steps()) {
                    d.append(" h0.01");
                }
                d.append(d.isEmpty() ? "" : " ").append('M').append(Xml.num(px)).append(' ').append(Xml.num(s.steps() ? prevY : py));
                inSubpath = 0;
            }
            if (s.steps()) {
                d.append(" L").append(Xml.num(px)).append(' ').append(Xml.num(prevY));
            }
            if (joined || s.steps()) {
                d.append(" L").append(Xml.num(px)).append(' ').append(Xml.num(py));
            }
            inSubpath++;
            prevY = py;
            prev = p;
        }
        if (inSubpath == 1 && !s.steps()) {
            d.append(" h0.01");
        }
        return d.toString();
    }

    private static double px(Axis x, double v) {
        return LEFT + (v - x.min()) / (x.max() - x.min()) * (WIDTH - LEFT - RIGHT);
    }

    private static double py(Axis y, double v, int height) {
        return height - BOTTOM - (v - y.min()) / (y.max() - y.min()) * (height - TOP - BOTTOM);
    }

    private static double clamp(double v, double min, double max) {
        return Math.max(min, Math.min(max, v));
    }

    private static String label(double v) {
        String fixed = Xml.num(v);                         // ticks are sums of steps: 2.0000000004 reads "2"
        return fixed.contains(".") ? fixed.replaceAll("\\.?0+$", "") : fixed;
    }
}
