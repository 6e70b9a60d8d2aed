package dev.exegpt.job.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

import dev.exegpt.job.report.ReportSeries.Block;
import dev.exegpt.job.report.ReportSeries.Point;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;

class ReportSeriesTest {

    private static final long T0 = ReportFixtures.T0;

    @Test
    void cdfShouldRiseToOneWithOnePointPerDistinctLatency() {
        List<InferenceResult> rs = List.of(result("a", "e", 0, 10, 5, 100, 0), result("b", "e", 0, 10, 5, 300, 0),
                result("c", "e", 0, 10, 5, 100, 0), result("d", "e", 0, 10, 5, 200, 0));
        assertEquals(List.of(new Point(100, 0.5), new Point(200, 0.75), new Point(300, 1.0)), ReportSeries.latencyCdf(rs, SloClock.ARRIVAL));
        assertEquals(List.of(), ReportSeries.latencyCdf(List.of(), SloClock.ARRIVAL));
    }

    @Test
    void attainmentShouldBePerCompletionWindowAndSkipResultsWithoutSlo() {
        InferenceResult met = withSlo(result("a", "e", 0, 10, 5, 100, 0), 500L, true);          // completes at 100 ms
        InferenceResult missed = withSlo(result("b", "e", 0, 10, 5, 800, 0), 500L, false);      // at 800 ms
        InferenceResult met2 = withSlo(result("c", "e", 400, 10, 5, 300, 0), 500L, true);       // at 700 ms
        InferenceResult noSlo = result("d", "e", 0, 10, 5, 150, 0);
        List<Point> points = ReportSeries.attainment(List.of(met, missed, met2, noSlo), SloClock.ARRIVAL, T0, 500);
        assertEquals(List.of(new Point(0.5, 100), new Point(1.0, 50)), points);
        // From encode start (queue 10 ms each): "missed" took 790 ms there, still over 500 ms.
        assertEquals(points, ReportSeries.attainment(List.of(met, missed, met2, noSlo), SloClock.ENCODE_START, T0, 500));
    }

    @Test
    void attainmentShouldCountOnTheGivenClockAndLeaveEmptyWindowsOut() {
        // Both wait 600 ms in the queue and are served in 300 ms: over a 500 ms SLO from arrival, within it from encode start.
        InferenceResult early = withSlo(result("a", "e", 0, 600, 100, 900, 1), 500L, false);          // completes at 0.9 s
        InferenceResult late = withSlo(result("b", "e", 5_000, 600, 100, 900, 1), 500L, false);        // at 5.9 s
        assertEquals(List.of(new Point(1.0, 0), new Point(6.0, 0)),
                ReportSeries.attainment(List.of(early, late), SloClock.ARRIVAL, T0, 1_000));
        assertEquals(List.of(new Point(1.0, 100), new Point(6.0, 100)),
                ReportSeries.attainment(List.of(early, late), SloClock.ENCODE_START, T0, 1_000), "windows 2 to 5 have no point");
    }

    @Test
    void requestsSharingAnExecutorAndEncodeStartShouldBeOneMicroBatch() {
        List<InferenceResult> rs = List.of(
                result("a", "rra-0", 0, 50, 20, 200, 2),     // encode starts at 50 ms on rra-0
                result("b", "rra-0", 30, 20.2, 20, 250, 2),  // starts at 50.2 ms: the same step
                result("c", "rra-0", 40, 200, 30, 400, 1),   // starts at 240 ms: the next step
                result("d", "rra-1", 0, 50, 25, 150, 1));    // same start, other executor
        List<Block> blocks = ReportSeries.encodeBlocks(rs, T0);
        assertEquals(3, blocks.size(), blocks.toString());
        assertEquals(new Block("rra-0", 0.05, 0.07, 2), blocks.get(0));
        assertEquals("rra-0", blocks.get(1).lane());
        assertEquals(1, blocks.get(1).numRequests());
        assertEquals(0.24, blocks.get(1).startS(), 1e-9);
        assertEquals(0.27, blocks.get(1).endS(), 1e-9);
        assertEquals(new Block("rra-1", 0.05, 0.075, 1), blocks.get(2));
    }

    @Test
    void decodeSpansShouldMergeOverlappingRequestsPerExecutor() {
        List<InferenceResult> rs = List.of(
                result("a", "rra-0", 0, 50, 20, 200, 2),     // decodes 70..200
                result("b", "rra-0", 0, 50, 20, 300, 2),     // 70..300
                result("c", "rra-0", 400, 10, 10, 100, 1),   // 420..500: a gap before it
                result("d", "rra-0", 0, 50, 20, 70, 1));     // no decode time: left out
        List<Block> spans = ReportSeries.decodeSpans(rs, T0);
        assertEquals(2, spans.size(), spans.toString());
        assertEquals(new Block("rra-0", 0.07, 0.3, 2), spans.get(0));
        assertEquals(new Block("rra-0", 0.42, 0.5, 1), spans.get(1));
    }

    @Test
    void batchSizesShouldBeMeansPerWindowWithEncodePerStep() {
        List<InferenceResult> rs = ReportFixtures.run("s", 2, 4, 40, 2_000, 1);
        long origin = ReportSeries.originEpochMs(rs);
        List<Point> encode = ReportSeries.encodeBatchSize(rs, origin, 100_000);
        assertEquals(1, encode.size());
        assertEquals(4.0, encode.get(0).y(), 1e-9, "ten steps of four");
        List<Point> decode = ReportSeries.decodeBatchSize(rs, origin, 100_000);
        assertEquals(4.0, decode.get(0).y(), 1e-9);
    }

    @Test
    void windowsShouldBeRoundAndAboutTheAskedNumber() {
        assertEquals(100, ReportSeries.windowMs(500, 30));
        assertEquals(1_000, ReportSeries.windowMs(30_000, 30));
        assertEquals(2_000, ReportSeries.windowMs(60_000, 30));
        assertEquals(5_000, ReportSeries.windowMs(120_000, 30));
        assertEquals(100_000, ReportSeries.windowMs(3_600_000, 30));
    }

    @Test
    void thinningShouldKeepTheEndsAndAtMostTheAskedNumber() {
        List<Point> points = new java.util.ArrayList<>();
        for (int i = 0; i < 10_001; i++) {
            points.add(new Point(i, i / 10_000.0));
        }
        List<Point> thin = ReportSeries.thin(points, 101);
        assertEquals(101, thin.size());
        assertEquals(points.get(0), thin.get(0));
        assertEquals(points.get(10_000), thin.get(100));
        assertEquals(points.get(5_000), thin.get(50), "evenly by rank");
        assertEquals(points.subList(0, 3), ReportSeries.thin(points.subList(0, 3), 101), "short series unchanged");
    }

    @Test
    void ticksShouldBeRoundValuesCoveringTheRange() {
        assertEquals(List.of(0.0, 20.0, 40.0, 60.0, 80.0, 100.0), SvgChart.ticks(0, 100, 5));
        assertEquals(List.of(0.0, 0.5, 1.0, 1.5), SvgChart.ticks(0, 1.7, 4));
        List<Double> t = SvgChart.ticks(0, 3_412, 8);
        assertTrue(t.size() >= 5 && t.size() <= 10 && t.get(1) == 500, t.toString());
    }

    /** A result with the given stage times (ms), arriving {@code arrivedMs} after T0. */
    static InferenceResult result(String id, String executor, double arrivedMs, double queueMs, double encodeMs,
                                  double endToEndMs, int encodeBatch) {
        double decodeMs = endToEndMs - queueMs - encodeMs;
        long arrived = T0 + (long) arrivedMs;
        RequestLatency l = RequestLatency.newBuilder().setArrivedEpochMs(arrived)
                .setCompletedEpochMs(Math.round(arrived + endToEndMs)).setQueueMs(queueMs).setEncodeMs(encodeMs)
                .setDecodeMs(Math.max(0, decodeMs)).setTtftMs(queueMs + encodeMs).setEndToEndMs(endToEndMs).build();
        return InferenceResult.newBuilder().setRequestId(id).setTask("summarization").setNumInputTokens(3)
                .setNumOutputTokens(1).setFinishReason(FinishReason.MAX_TOKENS).setLatency(l).setExecutorId(executor)
                .setEncodeBatchSize(encodeBatch).setMeanDecodeBatchSize(encodeBatch).build();
    }

    private static InferenceResult withSlo(InferenceResult r, long sloMs, boolean met) {
        return InferenceResult.newBuilder(r).setSloLatencyMs(sloMs).setSloMet(met).build();
    }
}
