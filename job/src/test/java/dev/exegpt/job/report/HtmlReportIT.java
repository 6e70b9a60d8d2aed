package dev.exegpt.job.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

import dev.exegpt.job.report.ReportInput.Run;
import dev.exegpt.job.report.ReportInput.Table;
import dev.exegpt.schemas.InferenceResult;

/**
 * The report in a real browser: Debian's headless Chromium renders reports, takes a screenshot and dumps the DOM
 * after the page's script ran. Every chart must have laid out all its marks with a size (the script's
 * {@code data-drawn} count) and must show coloured pixels where it sits in the screenshot. A bench report and an audit
 * report of the same results must tell one story: the tables agree wherever they show the same quantity of the same
 * run (within a page and across the two), every latency and attainment names its clock, one is the verdict, no line
 * crosses a window without completions, headings are short, and the page fits a laptop's width. Without Chromium the
 * test fails on CI (env CI=true) and is skipped elsewhere, naming bin/setup-chromium. Screenshots stay in
 * target/report-it/.
 */
class HtmlReportIT {

    private static final int WIDTH = 1280;
    private static final int HEIGHT = 2800;
    private static final int MAX_HEADING_CHARS = 60;
    private static final Pattern SVG = Pattern.compile("<svg\\b[^>]*>");
    private static final Pattern ATTR = Pattern.compile("([\\w-]+)=\"([^\"]*)\"");
    private static final Pattern CLOCKED = Pattern.compile("(?i).*(attain|goodput|latency|\\bp\\d\\d\\b|TTFT|e2e).*");

    @Test
    void everyChartShouldDrawInHeadlessChromium() throws Exception {
        Path chromium = HeadlessChromium.chromium();
        List<InferenceResult> rra = ReportFixtures.run("rra", 2, 4, 80, 1_200, 1);
        List<InferenceResult> stat = ReportFixtures.run("static", 1, 8, 80, 1_200, 2);
        ReportInput input = new ReportInput("HtmlReportIT", List.of(new Run("RRA B_E=4, 2 groups", rra),
                new Run("STATIC b=8", stat)), List.of(Table.plain("A table", "", List.of("policy", "value"),
                List.of(List.of("RRA", "1"), List.of("STATIC", "2")))));
        Page page = open(chromium, "report", input, HEIGHT);

        Map<String, Integer> expected = new LinkedHashMap<>();
        expected.put("cdf", 2);                            // one line per run
        expected.put("attainment", 2);
        expected.put("batch", 4);                          // encode and decode per run
        expected.put("timeline-0", blocks(rra));
        expected.put("timeline-1", blocks(stat));
        assertChartsDrew(page, expected);
    }

    @Test
    void aBenchAndAnAuditOfTheSameResultsShouldTellOneStory() throws Exception {
        Path chromium = HeadlessChromium.chromium();
        // Three policies, two bulk rounds each, interleaved: from arrival most requests wait past the 400 ms SLO, from
        // encode start all are served within it (the bench.html, where the two tables disagreed unlabelled).
        Map<String, Integer> schedules = new LinkedHashMap<>();
        schedules.put("t5-small/cpu:1/S/rra", 4);
        schedules.put("t5-small/cpu:1/S/static", 8);
        schedules.put("t5-small/cpu:1/S/continuous", 2);
        Map<String, List<InferenceResult>> bySchedule = ReportFixtures.bench(schedules, 2, 16, 400, 2_500);
        List<String> labels = List.of("ExeGPT RRA B_E=4 N_D=6", "STATIC b=8", "CONTINUOUS b=2");
        List<Run> runs = new ArrayList<>();
        List<InferenceResult> all = new ArrayList<>();
        int k = 0;
        for (List<InferenceResult> rs : bySchedule.values()) {
            runs.add(new Run(labels.get(k++), rs));
            all.addAll(rs);
        }
        ReportInput bench = BenchReportInput.of("t5-small, task S, SLO 400 ms, 16 requests x 2 rounds per policy, bulk.", runs,
                Arrivals.BULK, Table.plain("Simulators vs measured", "Predicted / measured - 1. ".repeat(6),
                        List.of("policy", "meas req/s", "XSim"), List.of(List.of("ExeGPT", "3.40", "3.50"))));
        ReportInput audit = AuditReportInput.of("SLO audit of results-*.jsonl", all, 5, Arrivals.BULK);
        Page benchPage = open(chromium, "bench", bench, 3_600);
        Page auditPage = open(chromium, "audit", audit, 4_400);

        assertChartsDrew(benchPage, marks(bench));
        assertChartsDrew(auditPage, marks(audit));
        assertEquals(3, audit.runs().size(), "the audit has a run per schedule id, as the bench per policy");

        Map<String, String> seen = new LinkedHashMap<>();   // run key + quantity -> the cell that showed it first
        int withinBench = assertTablesAgree(benchPage, seen);
        int acrossPages = assertTablesAgree(auditPage, seen);
        assertTrue(withinBench >= 3 * 8, "the bench table and the summary share figures of every run: " + withinBench);
        assertTrue(acrossPages >= 3 * 10, "the audit's summary shows the bench's runs: " + acrossPages);
        assertTrue(seen.get("t5-small/cpu:1/S/rra|attainment from encode start").startsWith("100.0%"), seen.toString());
        assertTrue(!seen.get("t5-small/cpu:1/S/rra|attainment from arrival").startsWith("100.0%"), seen.toString());

        for (Page page : List.of(benchPage, auditPage)) {
            assertClocksNamed(page, Arrivals.BULK);
            assertTrue(assertNoLineCrossesAnEmptyWindow(page, "attainment") > 0, page.name + ": the fixture has windows "
                    + "without completions between measured ones, drawn as gaps");
            assertNoLineCrossesAnEmptyWindow(page, "batch");
            assertHeadingsShortAndPageFits(page);
        }
    }

    /** A report rendered by Chromium: its DOM after the script ran, and its screenshot. */
    private record Page(String name, String dom, BufferedImage image, Path png) {}

    private static Page open(Path chromium, String name, ReportInput input, int height) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "report-it")).toAbsolutePath();
        Path html = dir.resolve(name + ".html");
        HtmlReport.write(html, input);
        Path png = dir.resolve(name + ".png");
        Files.deleteIfExists(png);
        String window = "--window-size=" + WIDTH + "," + height;      // the same layout for both
        HeadlessChromium.browser(chromium, dir, "--screenshot=" + png, window, html.toUri().toString());
        String dom = HeadlessChromium.browser(chromium, dir, "--dump-dom", window, html.toUri().toString());
        Files.writeString(dir.resolve(name + ".dom.html"), dom);
        BufferedImage image = ImageIO.read(png.toFile());
        assertTrue(image != null && image.getWidth() == WIDTH, "a screenshot of the asked width: " + png);
        assertTrue(coloured(image, 0, 0, image.getWidth(), image.getHeight()) > 5_000, "the screenshot is not blank: " + png);
        return new Page(name, dom, image, png);
    }

    /** Every chart named drew the expected number of marks, inside the screenshot, in colour. */
    private static void assertChartsDrew(Page page, Map<String, Integer> expected) {
        Map<String, Map<String, String>> charts = charts(page.dom);
        assertEquals(expected.keySet(), charts.keySet(), page.name + ": the charts on the page");
        assertTrue(page.dom.contains("data-charts-drawn=\"" + expected.size() + "/" + expected.size() + "\""),
                page.name + ": the page's script ran and counted every chart");
        assertEquals(expected.size(), count(page.dom, "<figcaption>"), page.name + ": a caption under every chart");
        for (Map.Entry<String, Integer> e : expected.entrySet()) {
            Map<String, String> attrs = charts.get(e.getKey());
            int drawn = Integer.parseInt(attrs.getOrDefault("data-drawn", "-1"));
            assertEquals(e.getValue(), drawn, page.name + " " + e.getKey() + ": marks laid out with a size");
            String[] rect = attrs.getOrDefault("data-rect", "0,0,0,0").split(",");
            int x = Integer.parseInt(rect[0]);
            int y = Integer.parseInt(rect[1]);
            int w = Integer.parseInt(rect[2]);
            int h = Integer.parseInt(rect[3]);
            assertTrue(w > 0 && h > 0 && y + h <= page.image.getHeight(), page.name + " " + e.getKey() + " lies inside the screenshot: " + attrs);
            int pixels = coloured(page.image, x, y, w, h);
            assertTrue(pixels > 150, page.name + " " + e.getKey() + ": only " + pixels + " coloured pixels where the chart is");
        }
    }

    /**
     * Every cell of a column that names its quantity, in a row that names its run, equals every other cell of that
     * quantity and run seen so far (this page's or an earlier one's); returns how many cells were compared.
     */
    private static int assertTablesAgree(Page page, Map<String, String> seen) {
        int compared = 0;
        Matcher table = Pattern.compile("(?s)<table>(.*?)</table>").matcher(page.dom);
        while (table.find()) {
            List<String> quantities = new ArrayList<>();
            Matcher th = Pattern.compile("(?s)<th([^>]*)>(.*?)</th>").matcher(table.group(1));
            while (th.find()) {
                quantities.add(attrs(th.group(1)).getOrDefault("data-quantity", ""));
            }
            Matcher tr = Pattern.compile("(?s)<tr([^>]*)>(.*?)</tr>").matcher(table.group(1));
            while (tr.find()) {
                String run = attrs(tr.group(1)).getOrDefault("data-run", "");
                List<String> cells = new ArrayList<>();
                Matcher td = Pattern.compile("(?s)<td[^>]*>(.*?)</td>").matcher(tr.group(2));
                while (td.find()) {
                    cells.add(td.group(1));
                }
                if (run.isEmpty() || cells.isEmpty()) {
                    continue;
                }
                for (int i = 0; i < cells.size(); i++) {
                    if (quantities.get(i).isEmpty()) {
                        continue;
                    }
                    String key = run + "|" + quantities.get(i);
                    String first = seen.putIfAbsent(key, cells.get(i));
                    if (first != null) {
                        assertEquals(first, cells.get(i), page.name + ": two tables disagree on " + quantities.get(i) + " of " + run);
                        compared++;
                    }
                }
            }
        }
        return compared;
    }

    /**
     * Every heading of a latency or attainment column names its clock; each table of them marks one column as the
     * verdict, on the verdict's clock; the latency charts' axes name it too.
     */
    private static void assertClocksNamed(Page page, Arrivals arrivals) {
        String verdict = arrivals.verdict().label();
        assertTrue(page.dom.contains("Verdict: SLO attainment " + verdict), page.name + ": the verdict is stated");
        Matcher table = Pattern.compile("(?s)<table>(.*?)</table>").matcher(page.dom);
        int numTables = 0;
        while (table.find()) {
            int numVerdicts = 0;
            boolean attainment = false;
            Matcher th = Pattern.compile("(?s)<th[^>]*>(.*?)</th>").matcher(table.group(1));
            while (th.find()) {
                String header = th.group(1);
                if (CLOCKED.matcher(header).matches() && !header.contains("TPOT")) {
                    assertTrue(header.contains("from arrival") || header.contains("from encode start"),
                            page.name + ": no clock named in the column '" + header + "'");
                }
                attainment |= header.toLowerCase(java.util.Locale.ROOT).contains("attain");
                if (header.contains("(verdict)")) {
                    numVerdicts++;
                    assertTrue(header.contains(verdict), page.name + ": the verdict is not on the " + verdict + " clock: " + header);
                }
            }
            if (attainment) {
                assertEquals(1, numVerdicts, page.name + ": one attainment column is the verdict in each table of them");
                numTables++;
            }
        }
        assertTrue(numTables >= 2, page.name + ": tables with attainment: " + numTables);
        Matcher label = Pattern.compile("<text class=\"axis-label[^\"]*\"[^>]*>([^<]*)</text>").matcher(page.dom);
        int numLabels = 0;
        while (label.find()) {
            numLabels++;
            assertTrue(label.group(1).matches(".*\\([^)]+\\)"), page.name + ": an axis label without a unit: " + label.group(1));
            if (CLOCKED.matcher(label.group(1)).matches() || label.group(1).contains("SLO")) {
                assertTrue(label.group(1).contains(verdict), page.name + ": an axis without the verdict's clock: " + label.group(1));
            }
        }
        assertTrue(numLabels >= 2 * 3, page.name + ": axis labels " + numLabels);
    }

    /**
     * No line of a windowed chart joins two points further apart than one window: a window between them had no
     * completions and drew nothing. Returns the number of gaps (subpaths after the first) the chart's lines have.
     */
    private static int assertNoLineCrossesAnEmptyWindow(Page page, String chart) {
        Matcher svg = Pattern.compile("(?s)<svg\\b([^>]*data-chart=\"" + chart + "\"[^>]*)>(.*?)</svg>").matcher(page.dom);
        assertTrue(svg.find(), page.name + ": no chart " + chart);
        Map<String, String> attrs = attrs(svg.group(1));
        double windowS = Double.parseDouble(attrs.get("data-window-s"));
        String[] x = attrs.get("data-x").split(",");
        double secondsPerPx = (Double.parseDouble(x[1]) - Double.parseDouble(x[0])) / (Double.parseDouble(x[3]) - Double.parseDouble(x[2]));
        int gaps = 0;
        Matcher path = Pattern.compile("<path\\b([^>]*)>").matcher(svg.group(2));
        while (path.find()) {
            Map<String, String> p = attrs(path.group(1));
            if (!p.getOrDefault("class", "").contains("series")) {
                continue;
            }
            Matcher cmd = Pattern.compile("([MLh])\\s*(-?[\\d.]+)(?:\\s+(-?[\\d.]+))?").matcher(p.get("d"));
            double at = Double.NaN;
            int subpaths = 0;
            while (cmd.find()) {
                double v = Double.parseDouble(cmd.group(2));
                double to = cmd.group(1).equals("h") ? at + v : v;
                if (cmd.group(1).equals("M")) {
                    subpaths++;
                } else {
                    double spanS = Math.abs(to - at) * secondsPerPx;
                    assertTrue(spanS <= windowS * 1.01 + 0.02 * secondsPerPx, page.name + " " + chart + ": the line of "
                            + p.get("data-series") + " spans " + spanS + " s, more than a window of " + windowS
                            + " s: it crosses a window without completions");
                }
                at = to;
            }
            gaps += Math.max(0, subpaths - 1);
        }
        return gaps;
    }

    /** Headings are a few words (explanations are paragraphs), and the page fits the window without scrolling sideways. */
    private static void assertHeadingsShortAndPageFits(Page page) {
        Matcher h = Pattern.compile("(?s)<(h[1-3])[^>]*>(.*?)</h[1-3]>").matcher(page.dom);
        int n = 0;
        while (h.find()) {
            n++;
            assertTrue(h.group(2).length() <= MAX_HEADING_CHARS, page.name + ": a " + h.group(1) + " of " + h.group(2).length()
                    + " characters (a paragraph as a heading?): " + h.group(2));
        }
        assertTrue(n >= 5, page.name + ": headings " + n);
        Matcher width = Pattern.compile("data-page-width=\"(\\d+)\"").matcher(page.dom);
        assertTrue(width.find(), page.name + ": the page's script wrote its width");
        assertTrue(Integer.parseInt(width.group(1)) <= WIDTH, page.name + ": the page is " + width.group(1)
                + " px wide in a window of " + WIDTH);
        assertTrue(page.dom.contains("data-tables-clipped=\"0\""), page.name + ": a table is wider than the page at "
                + WIDTH + " px (the script's count of tables scrolled sideways is not 0)");
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    private static Map<String, String> attrs(String tag) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher a = ATTR.matcher(tag);
        while (a.find()) {
            out.put(a.group(1), a.group(2));
        }
        return out;
    }

    /** The marks each chart of a report of runs that all have results draws: a line per run (two on the batch chart), and the timelines' blocks. */
    private static Map<String, Integer> marks(ReportInput input) {
        Map<String, Integer> out = new LinkedHashMap<>();
        out.put("cdf", input.runs().size());
        out.put("attainment", input.runs().size());
        out.put("batch", 2 * input.runs().size());
        for (int i = 0; i < input.runs().size(); i++) {
            out.put("timeline-" + i, blocks(input.runs().get(i).results()));
        }
        return out;
    }

    /** Encode blocks and decode spans the timeline of a run draws. */
    private static int blocks(List<InferenceResult> results) {
        long origin = ReportSeries.originEpochMs(results);
        return ReportSeries.encodeBlocks(results, origin).size() + ReportSeries.decodeSpans(results, origin).size();
    }

    /** Each chart's attributes, by its data-chart name, in page order. */
    private static Map<String, Map<String, String>> charts(String dom) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        Matcher svg = SVG.matcher(dom);
        while (svg.find()) {
            Map<String, String> attrs = attrs(svg.group());
            if (attrs.containsKey("data-chart")) {
                out.put(attrs.get("data-chart"), attrs);
            }
        }
        return out;
    }

    /** Pixels in the rectangle whose colour is clearly saturated (series, blocks), not white, grey or black text. */
    private static int coloured(BufferedImage image, int x0, int y0, int w, int h) {
        int n = 0;
        for (int y = Math.max(0, y0); y < Math.min(image.getHeight(), y0 + h); y++) {
            for (int x = Math.max(0, x0); x < Math.min(image.getWidth(), x0 + w); x++) {
                int rgb = image.getRGB(x, y);
                int r = (rgb >> 16) & 0xff;
                int g = (rgb >> 8) & 0xff;
                int b = rgb & 0xff;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
                    n++;
                }
            }
        }
        return n;
    }
}
