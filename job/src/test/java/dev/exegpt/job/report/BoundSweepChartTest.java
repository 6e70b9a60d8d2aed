package dev.exegpt.job.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The bench sweep's chart: a line per policy through the bounds it had a schedule at, each bound marked. */
class BoundSweepChartTest {

    @Test
    void shouldDrawALinePerPolicyWithNoPointWhereItHadNoSchedule() {
        Map<String, double[]> goodput = new LinkedHashMap<>();
        goodput.put("ExeGPT", new double[] {1.5, 4.0, 5.0});
        goodput.put("STATIC", new double[] {Double.NaN, 3.0, 4.5});
        String html = ReportCharts.boundSweep(List.of("tightest", "2x-tightest", "inf"), new double[] {585, 1170, Double.POSITIVE_INFINITY},
                goodput, "caption");
        assertTrue(html.contains("data-chart=\"bound-sweep\""), html);
        assertEquals(3, segments(html, "ExeGPT"), "three points");
        assertEquals(2, segments(html, "STATIC"), "no point at the bound STATIC could not meet");
        assertTrue(html.contains(">tightest 585<") && html.contains(">2x 1170<") && html.contains(">inf<"), "each bound marked: " + html);
    }

    /** Points of a series' path: its M and L commands. */
    private static int segments(String html, String series) {
        Matcher m = Pattern.compile("data-series=\"" + series + "\"[^>]* d=\"([^\"]*)\"").matcher(html);
        assertTrue(m.find(), series + " drawn");
        return m.group(1).split("[ML]").length - 1;
    }
}
