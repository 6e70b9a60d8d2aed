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
                List.of(new Table("bench <table>", List.of("policy", "tokens/s"), List.of(List.of("RRA", "12.5"), List.of(label, "9.0")))));
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
