package dev.exegpt.job.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import dev.exegpt.job.report.ReportInput.Run;
import dev.exegpt.job.report.ReportInput.Table;
import dev.exegpt.schemas.InferenceResult;

/**
 * The report in a real browser: Debian's headless Chromium renders a report of two runs, takes a screenshot and
 * dumps the DOM after the page's script ran. Every chart must have laid out all its marks with a size (the script's
 * {@code data-drawn} count) and must show coloured pixels where it sits in the screenshot. Without Chromium the test
 * fails on CI (env CI=true) and is skipped elsewhere, naming bin/setup-chromium.
 */
class HtmlReportIT {

    private static final int WIDTH = 1280;
    private static final int HEIGHT = 2800;
    private static final long BROWSER_TIMEOUT_S = 90;
    private static final Pattern SVG = Pattern.compile("<svg\\b[^>]*>");

    @Test
    void everyChartShouldDrawInHeadlessChromium() throws Exception {
        Path chromium = chromium();
        List<InferenceResult> rra = ReportFixtures.run("rra", 2, 4, 80, 1_200, 1);
        List<InferenceResult> stat = ReportFixtures.run("static", 1, 8, 80, 1_200, 2);
        ReportInput input = new ReportInput("HtmlReportIT", List.of(new Run("RRA B_E=4, 2 groups", rra),
                new Run("STATIC b=8", stat)), List.of(new Table("a table", List.of("policy", "value"),
                List.of(List.of("RRA", "1"), List.of("STATIC", "2")))));
        Path dir = Files.createDirectories(Path.of("target", "report-it")).toAbsolutePath();
        Path html = dir.resolve("report.html");
        HtmlReport.write(html, input);

        Path png = dir.resolve("report.png");
        Files.deleteIfExists(png);
        String window = "--window-size=" + WIDTH + "," + HEIGHT;      // the same layout for both
        browser(chromium, dir, "--screenshot=" + png, window, html.toUri().toString());
        String dom = browser(chromium, dir, "--dump-dom", window, html.toUri().toString());
        Files.writeString(dir.resolve("report.dom.html"), dom);

        Map<String, Map<String, String>> charts = charts(dom);
        Map<String, Integer> expected = new LinkedHashMap<>();
        expected.put("cdf", 2);                            // one line per run
        expected.put("attainment", 2);
        expected.put("batch", 4);                          // encode and decode per run
        expected.put("timeline-0", blocks(rra));
        expected.put("timeline-1", blocks(stat));
        assertEquals(expected.keySet(), charts.keySet(), "the charts on the page");
        assertTrue(dom.contains("data-charts-drawn=\"5/5\""), "the page's script ran and counted every chart");

        BufferedImage image = ImageIO.read(png.toFile());
        assertTrue(image != null && image.getWidth() == WIDTH, "a screenshot of the asked width: " + png);
        assertTrue(coloured(image, 0, 0, image.getWidth(), image.getHeight()) > 5_000, "the screenshot is not blank");
        for (Map.Entry<String, Integer> e : expected.entrySet()) {
            Map<String, String> attrs = charts.get(e.getKey());
            int drawn = Integer.parseInt(attrs.getOrDefault("data-drawn", "-1"));
            assertEquals(e.getValue(), drawn, e.getKey() + ": marks laid out with a size");
            String[] rect = attrs.getOrDefault("data-rect", "0,0,0,0").split(",");
            int x = Integer.parseInt(rect[0]);
            int y = Integer.parseInt(rect[1]);
            int w = Integer.parseInt(rect[2]);
            int h = Integer.parseInt(rect[3]);
            assertTrue(w > 0 && h > 0 && y + h <= image.getHeight(), e.getKey() + " lies inside the screenshot: " + attrs);
            int pixels = coloured(image, x, y, w, h);
            assertTrue(pixels > 150, e.getKey() + ": only " + pixels + " coloured pixels where the chart is");
        }
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
            Map<String, String> attrs = new LinkedHashMap<>();
            Matcher a = Pattern.compile("([\\w-]+)=\"([^\"]*)\"").matcher(svg.group());
            while (a.find()) {
                attrs.put(a.group(1), a.group(2));
            }
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

    /** Runs headless Chromium with its own profile dir and a time limit; returns its standard output. */
    private static String browser(Path chromium, Path dir, String... args) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(dir, "chromium-profile-");
        List<String> command = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run", "--user-data-dir=" + profile));
        command.addAll(List.of(args));
        Path stdout = dir.resolve("chromium.out");
        Path stderr = dir.resolve("chromium.err");
        Process p = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        try {
            if (!p.waitFor(BROWSER_TIMEOUT_S, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail("chromium did not finish in " + BROWSER_TIMEOUT_S + " s: " + command);
            }
            assertEquals(0, p.exitValue(), "chromium failed: " + command + "\n" + Files.readString(stderr));
            return Files.readString(stdout, StandardCharsets.UTF_8);
        } finally {
            deleteTree(profile);
        }
    }

    /** Best effort: a helper process of Chromium's still writing there leaves the folder to target/'s next clean. */
    private static void deleteTree(Path dir) {
        try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            System.err.printf("HtmlReportIT: could not remove %s: %s%n", dir, e);
        }
    }

    /** Chromium on the PATH (or $CHROMIUM); a failure on CI, else a skip that says how to install it. */
    private static Path chromium() {
        Optional<Path> found = Optional.ofNullable(System.getenv("CHROMIUM")).map(Path::of).filter(Files::isExecutable)
                .or(() -> onPath("chromium")).or(() -> onPath("chromium-browser"));
        if (found.isEmpty()) {
            String message = "no chromium on the PATH (nor $CHROMIUM): install it with bin/setup-chromium";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(message + " (CI=true, so this is a failure, not a skip)");
            }
            Assumptions.assumeTrue(false, message);
        }
        return found.get();
    }

    private static Optional<Path> onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
