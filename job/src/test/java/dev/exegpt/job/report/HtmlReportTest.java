package dev.exegpt.job.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import dev.exegpt.job.report.ReportInput.Run;
import dev.exegpt.job.report.ReportInput.Table;

class HtmlReportTest {

    @Test
    void shouldEscapeMarkupQuotesAndCharactersXmlForbids() {
        assertEquals("&lt;b a=&quot;1&quot;&gt;R&amp;D&#39;s&lt;/b&gt;", Xml.escape("<b a=\"1\">R&D's</b>"));
        assertEquals("a\uFFFDb\tc", Xml.escape("a\u0001b\tc"));
        assertEquals("1.50", Xml.num(1.5));
    }

    @Test
    void shouldBeWellFormedXhtmlWithEveryChartAndTable() throws Exception {
        String label = "STATIC <b=4> & \"friends\"";
        ReportInput input = new ReportInput("Bench </title><script>alert(1)</script>",
                List.of(new Run("RRA B_E=4", ReportFixtures.run("rra", 2, 4, 60, 1_500, 1)),
                        new Run(label, ReportFixtures.run("static", 1, 6, 60, 1_500, 2))),
                List.of(Table.plain("bench <table>", "a note", List.of("policy", "tokens/s"), List.of(List.of("RRA", "12.5"), List.of(label, "9.0")))));
        String html = HtmlReport.render(input, Instant.EPOCH);

        Document doc = parse(html);
        NodeList svgs = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg");
        List<String> charts = new java.util.ArrayList<>();
        for (int i = 0; i < svgs.getLength(); i++) {
            Element svg = (Element) svgs.item(i);
            charts.add(svg.getAttribute("data-chart"));
            NodeList paths = svg.getElementsByTagNameNS("http://www.w3.org/2000/svg", "path");
            NodeList rects = svg.getElementsByTagNameNS("http://www.w3.org/2000/svg", "rect");
            assertTrue(paths.getLength() + rects.getLength() >= 2, svg.getAttribute("data-chart") + " has marks");
        }
        assertEquals(List.of("cdf", "attainment", "batch", "timeline-0", "timeline-1"), charts);
        assertEquals(1, doc.getElementsByTagName("script").getLength(), "only the page's own script");
        assertFalse(html.contains("<script>alert"), "titles and labels are escaped");
        assertTrue(html.contains("STATIC &lt;b=4&gt; &amp; &quot;friends&quot;"));
        assertTrue(html.contains("SLO 1500 ms"), "the SLO is marked on the CDF");
        assertEquals(2, doc.getElementsByTagName("table").getLength(), "summary, the caller's table, and only those");
        assertFalse(html.matches("(?s).*(src|href)=\"(https?:)?//.*"), "nothing is fetched");
    }

    @Test
    void theControlLoopsScheduleChangesShouldBeMarkedOnTheirRunsTimelineWithTheirReasons() throws Exception {
        List<dev.exegpt.schemas.InferenceResult> rs = ReportFixtures.run("rra", 1, 4, 40, 1_500, 1);
        long origin = ReportSeries.originEpochMs(rs);
        double spanMs = ReportSeries.spanMs(rs);
        dev.exegpt.schemas.Schedule v2 = dev.exegpt.schemas.Schedule.newBuilder().setScheduleId("rra").setVersion(2)
                .setCreatedEpochMs(origin + (long) (spanMs / 2)).setPolicy(dev.exegpt.schemas.SchedulePolicy.RRA)
                .setEncodeBatchSize(2).setDecodeIterationsPerEncode(9).setDecodeBatchSize(18).setTask("S")
                .setNotes(java.util.Map.of("control.reason", "the running RRA B_E=4 is predicted at 2100 ms <over> the SLO",
                        "control.fit", "encode x1.00, decode x1.87", "control.planMs", "47.2")).build();
        dev.exegpt.schemas.Schedule byHand = dev.exegpt.schemas.Schedule.newBuilder(v2).setVersion(3).setNotes(java.util.Map.of()).build();
        List<ScheduleChange> changes = java.util.stream.Stream.of(v2, byHand).flatMap(s -> ScheduleChange.of(s).stream()).toList();
        assertEquals(1, changes.size(), "a schedule published by hand is not the loop's change");
        String html = HtmlReport.render(new ReportInput("t", List.of(new Run("rra", rs), new Run("other",
                ReportFixtures.run("other", 1, 4, 20, 1_500, 2))), List.of()).withChanges(changes), Instant.EPOCH);
        Document doc = parse(html);
        NodeList groups = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "g");
        List<Element> marks = new java.util.ArrayList<>();
        for (int i = 0; i < groups.getLength(); i++) {
            if (((Element) groups.item(i)).getAttribute("class").equals("change")) marks.add((Element) groups.item(i));
        }
        assertEquals(1, marks.size(), "one line, on the timeline of the run whose schedule changed");
        assertEquals("timeline-0", ((Element) marks.get(0).getParentNode()).getAttribute("data-chart"));
        assertTrue(marks.get(0).getTextContent().contains("v2: RRA B_E=2 N_D=9 (decode batch 18): the running RRA B_E=4 is predicted"
                + " at 2100 ms <over> the SLO (fit encode x1.00, decode x1.87; planned in 47 ms)"), marks.get(0).getTextContent());
        assertTrue(html.contains(String.format(java.util.Locale.ROOT, "at %.1f s, v2: RRA", spanMs / 2000)), "listed under the chart");
    }

    @Test
    void aWindowWithoutCompletionsShouldBreakTheLine() {
        List<ReportSeries.Point> points = List.of(new ReportSeries.Point(1, 50), new ReportSeries.Point(2, 60),
                new ReportSeries.Point(5, 70), new ReportSeries.Point(9, 80), new ReportSeries.Point(10, 90));
        String svg = SvgChart.lines("t", new SvgChart.Axis("s", 0, 10), new SvgChart.Axis("%", 0, 100),
                List.of(new SvgChart.Series("r", "#000", false, false, 1.0, points)), List.of());
        String d = svg.replaceFirst("(?s).*<path [^>]* d=\"([^\"]*)\".*", "$1");
        assertEquals(3, d.split("M").length - 1, "three runs of windows: 1-2, 5 alone, 9-10: " + d);
        assertEquals(2, d.split("L").length - 1, "a segment within each run of adjacent windows only: " + d);
        assertTrue(d.contains("h0.01"), "the lone window still shows, as a dot: " + d);
        String joined = SvgChart.lines("t", new SvgChart.Axis("s", 0, 10), new SvgChart.Axis("%", 0, 100),
                List.of(new SvgChart.Series("r", "#000", false, false, 0, points)), List.of());
        assertEquals(1, joined.split("M").length - 1, "a series of no windows is one line");
    }

    @Test
    void everyLatencyAndAttainmentHeaderShouldNameItsClockAndTheVerdictBeMarkedOnce() throws Exception {
        List<dev.exegpt.schemas.InferenceResult> rs = ReportFixtures.run("rra", 1, 4, 20, 1_000, 3);
        for (Arrivals arrivals : Arrivals.values()) {
            Run run = new Run("r", rs);
            String html = HtmlReport.render(new ReportInput("t", "d", arrivals, List.of(run),
                    List.of(BenchReportInput.table(List.of(run), arrivals))), Instant.EPOCH);
            Document doc = parse(html);
            NodeList ths = doc.getElementsByTagName("th");
            int numVerdicts = 0;
            for (int i = 0; i < ths.getLength(); i++) {
                String th = ths.item(i).getTextContent();
                if (th.matches("(?i).*(attain|goodput|latency|\\bp\\d\\d\\b|TTFT).*") && !th.contains("TPOT")) {
                    assertTrue(th.contains("from arrival") || th.contains("from encode start"), "a clock in '" + th + "'");
                }
                numVerdicts += th.contains("(verdict)") ? 1 : 0;
                if (th.contains("(verdict)")) {
                    assertTrue(th.contains(arrivals.verdict().label()), arrivals + ": " + th);
                }
            }
            assertEquals(2, numVerdicts, "one verdict per table of runs (summary and bench)");
            assertTrue(html.contains("Verdict: SLO attainment " + arrivals.verdict().label()), arrivals.toString());
        }
    }

    @Test
    void headingsShouldBeShortAndNotesText() throws Exception {
        String longNote = "A long explanation of what the table counts. ".repeat(8);
        String html = HtmlReport.render(new ReportInput("t", List.of(new Run("r", ReportFixtures.run("rra", 1, 4, 20, 1_000, 3))),
                List.of(Table.plain("Short", longNote, List.of("a"), List.of(List.of("1"))))), Instant.EPOCH);
        Document doc = parse(html);
        for (String tag : List.of("h1", "h2", "h3")) {
            NodeList hs = doc.getElementsByTagName(tag);
            for (int i = 0; i < hs.getLength(); i++) {
                assertTrue(hs.item(i).getTextContent().length() <= 60, tag + ": " + hs.item(i).getTextContent());
            }
        }
        assertTrue(html.contains("<p class=\"note\">" + longNote.trim()), "the note is a paragraph");
    }

    @Test
    void manyDistinctSlosShouldBeNamedNotDrawn() {
        List<dev.exegpt.schemas.InferenceResult> rs = new java.util.ArrayList<>();
        long slo = 900;
        for (dev.exegpt.schemas.InferenceResult r : ReportFixtures.run("rra", 1, 4, 20, 1_000, 3)) {
            rs.add(dev.exegpt.schemas.InferenceResult.newBuilder(r).setSloLatencyMs(slo++).build());
        }
        String html = HtmlReport.render(new ReportInput("t", List.of(new Run("r", rs)), List.of()), Instant.EPOCH);
        assertFalse(html.contains("class=\"marker\""), "no SLO line");
        assertTrue(html.contains("20 distinct SLOs from 900 to 919 ms, not marked"));
    }

    @Test
    void shouldWriteAPageForARunWithoutResults(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub").resolve("report.html");
        HtmlReport.write(file, new ReportInput("empty", List.of(new Run("nothing", List.of())), List.of()));
        parse(Files.readString(file));
    }

    private static Document parse(String html) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
    }
}
