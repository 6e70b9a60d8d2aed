package dev.exegpt.job.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import dev.exegpt.job.report.SloClock;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;

/** The bench's figures from hand-made results: spans, both SLO clocks, goodput, the 10-90 throughput, the bound-length latency. */
class BenchFiguresTest {

    private static final long T0 = 1_767_225_600_000L;

    /** A request arriving at t0 + arrivedMs that waits queueMs, then is served for serviceMs, with outputTokens tokens. */
    private static InferenceResult result(long arrivedMs, double queueMs, double serviceMs, int outputTokens, long sloMs) {
        return result(arrivedMs, queueMs, serviceMs, outputTokens, sloMs, 1);
    }

    /** The same, from version {@code version} of the schedule (the bench runs each round as a new version). */
    private static InferenceResult result(long arrivedMs, double queueMs, double serviceMs, int outputTokens, long sloMs, int version) {
        double e2e = queueMs + serviceMs;
        RequestLatency l = RequestLatency.newBuilder().setArrivedEpochMs(T0 + arrivedMs)
                .setCompletedEpochMs(T0 + arrivedMs + Math.round(e2e)).setQueueMs(queueMs).setEncodeMs(serviceMs / 4)
                .setDecodeMs(serviceMs * 3 / 4).setTtftMs(queueMs + serviceMs / 4).setEndToEndMs(e2e).build();
        return InferenceResult.newBuilder().setRequestId("r" + arrivedMs + "-" + queueMs).setTask("S").setNumInputTokens(10)
                .setNumOutputTokens(outputTokens).setFinishReason(FinishReason.MAX_TOKENS).setLatency(l).setSloLatencyMs(sloMs)
                .setSloMet(e2e <= sloMs).setScheduleId("s").setScheduleVersion(version).build();
    }

    @Test
    void bulkCountsTheSloFromEncodeStartAndPoissonEndToEnd() {
        // Bulk: all at 0; queue grows 0, 1000, ..., service 500 each (200 for the short ones).
        List<InferenceResult> round = new ArrayList<>();
        for (int i = 0; i < 10; i++) round.add(result(0, 1000.0 * i, i % 2 == 0 ? 500 : 200, i % 2 == 0 ? 60 : 5, 1500));
        BenchFigures service = BenchFigures.of(List.of(round), 10, 62, SloClock.ENCODE_START);
        BenchFigures endToEnd = BenchFigures.of(List.of(round), 10, 62, SloClock.ARRIVAL);

        assertEquals(10, service.numSloMet(), "every service latency is within 1500 ms");
        assertEquals(1.0, service.attainment(), 1e-12);
        // End to end: queue 0 + 500 and 1000 + 200 meet 1500 ms, the rest waited too long.
        assertEquals(2, endToEnd.numSloMet());
        assertEquals(0.2, endToEnd.attainment(), 1e-12);
        // Span: arrival at 0 to the last completion, 9000 + 200 ms.
        assertEquals(9200, service.spanMs(), 1e-9);
        assertEquals(10 * 1000 / 9200.0, service.pooled().getRequestsPerSecond(), 1e-3);
        assertEquals(10 * 1000 / 9200.0, service.goodputPerSecond(), 1e-9);
        assertEquals(2 * 1000 / 9200.0, endToEnd.goodputPerSecond(), 1e-9);
        assertTrue(endToEnd.goodputPerSecond() <= endToEnd.pooled().getRequestsPerSecond());
        // Bound length 62: the 60-token requests count (>= 60), worst service 500 ms.
        assertEquals(500, service.boundLengthServiceMs(), 1e-9);
        assertEquals(9200, service.p99EndToEndMs(), 1e-9);
    }

    @Test
    void roundsAddTheirSpansAndTakeTheMedianThroughput() {
        List<InferenceResult> fast = new ArrayList<>(), slow = new ArrayList<>(), slower = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            fast.add(result(0, 100.0 * i, 100, 3, 10_000, 1));
            slow.add(result(10_000, 200.0 * i, 200, 3, 10_000, 2));
            slower.add(result(20_000, 400.0 * i, 400, 3, 10_000, 3));
        }
        BenchFigures f = BenchFigures.of(List.of(fast, slow, slower), 10, 62, SloClock.ARRIVAL);
        assertEquals(1000 + 2000 + 4000, f.spanMs(), 1e-9, "the rounds' spans, not the time between them");
        assertEquals(3, f.figures().numSpans());
        assertEquals(30, f.numAnswered());
        assertEquals(30, f.numRequests());
        // Completions every 100, 200, 400 ms: 10-90 window throughput 10, 5 and 2.5 requests/s; the median is 5.
        assertEquals(5.0, f.throughput10to90(), 1e-9);
        // First arrival to last completion: 10 requests in 1, 2 and 4 s; the median is 5 requests/s.
        assertEquals(5.0, f.completionsPerSecond(), 1e-9);
        assertEquals(Double.NaN, f.boundLengthServiceMs(), "no request reached the bound length");
        assertEquals(1.0, f.attainment(), 1e-12);
    }

    @Test
    void errorIsPredictedOverMeasuredMinusOneInPercent() {
        assertEquals(10.0, BenchFigures.errorPercent(1.1, 1.0), 1e-9);
        assertEquals(-50.0, BenchFigures.errorPercent(2, 4), 1e-9);
        assertTrue(Double.isNaN(BenchFigures.errorPercent(Double.NaN, 4)));
        assertTrue(Double.isNaN(BenchFigures.errorPercent(1, 0)));
    }
}
