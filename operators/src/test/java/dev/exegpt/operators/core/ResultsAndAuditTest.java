package dev.exegpt.operators.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import dev.exegpt.operators.core.Results.Batching;
import dev.exegpt.operators.core.Results.Provenance;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;

class ResultsAndAuditTest {

    private static final long T0 = 1_700_000_000_000L;
    private static final Provenance PROVENANCE = new Provenance("plan-a", 3, "rra-0", 1);

    private static ValidRequest request(String id, long sloMs, int estimated) {
        InferenceRequest r = InferenceRequest.newBuilder().setRequestId(id).setTask("summarization").setPromptText("x y")
                .setMaxNewTokens(8).setMetadata(Map.of("k", "v")).build();
        return new ValidRequest(r, new int[] {1, 2, 3}, T0, sloMs, estimated);
    }

    @Test
    void latencyPartsShouldAddUpToEndToEndFromTheKafkaTimestamp() {
        Timeline t = new Timeline(T0 + 120.5, T0 + 180.25, T0 + 200.0, T0 + 900.0);
        InferenceResult r = Results.finished(request("a", 1_000, 5), t, new int[] {7, 8, 9, 10, 11}, "text",
                FinishReason.MAX_TOKENS, new Batching(4, 12.5), PROVENANCE);
        RequestLatency l = r.getLatency();
        assertEquals(120.5, l.getQueueMs(), 1e-9);
        assertEquals(59.75, l.getEncodeMs(), 1e-9);
        assertEquals(719.75, l.getDecodeMs(), 1e-9);
        assertEquals(900.0, l.getEndToEndMs(), 1e-9);
        assertEquals(l.getEndToEndMs(), l.getQueueMs() + l.getEncodeMs() + l.getDecodeMs(), 1e-9);
        assertEquals(200.0, l.getTtftMs(), 1e-9);
        assertEquals((900.0 - 200.0) / 4, l.getTpotMs(), 1e-9);
        assertEquals(T0 + 900, l.getCompletedEpochMs());
        assertTrue(r.getSloMet());
        assertEquals(5, r.getNumOutputTokens());
        assertEquals(3, r.getNumInputTokens());
        assertEquals(5, r.getNumEstimatedOutputTokens());
        assertEquals(4, r.getEncodeBatchSize());
        assertEquals("plan-a", r.getScheduleId());
        assertEquals(3, r.getScheduleVersion());
        assertEquals(Map.of("k", "v"), r.getMetadata());
    }

    @Test
    void shouldMarkAMissedSloAndLeaveItNullWhenNoneApplies() {
        Timeline slow = new Timeline(T0 + 10, T0 + 20, T0 + 30, T0 + 2_000);
        assertFalse(Results.finished(request("b", 1_000, 0), slow, new int[] {1}, "", FinishReason.EOS,
                new Batching(1, 1), PROVENANCE).getSloMet());
        InferenceResult noSlo = Results.finished(request("c", 0, 0), slow, new int[] {1}, "", FinishReason.EOS,
                new Batching(1, 1), PROVENANCE);
        assertNull(noSlo.getSloMet());
        assertNull(noSlo.getSloLatencyMs());
        assertEquals(0.0, noSlo.getLatency().getTpotMs(), "one token has no time per output token");
    }

    @Test
    void unfinishedRequestsMissTheirSloAndSayWhy() {
        InferenceResult r = Results.unfinished(request("d", 500, 0), T0 + 800, FinishReason.DEADLINE,
                "deadline can no longer be met", PROVENANCE);
        assertFalse(r.getSloMet());
        assertEquals(800.0, r.getLatency().getEndToEndMs(), 1e-9);
        assertEquals("deadline can no longer be met", r.getErrorMessage());
    }

    @Test
    void aTimelineOutOfOrderIsABug() {
        assertThrows(IllegalArgumentException.class, () -> new Timeline(T0 + 5, T0 + 4, T0 + 6, T0 + 7));
    }

    @Test
    void auditShouldReportAttainmentPercentilesAndTheBoundLengthLatencyApart() {
        List<InferenceResult> results = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            // End-to-end i * 10 ms; SLO 900 ms: requests 1..90 meet it. Output length i tokens.
            Timeline t = new Timeline(T0, T0 + 1, T0 + 2, T0 + i * 10.0);
            int[] tokens = new int[i];
            results.add(Results.finished(request("r" + i, 900, i + 2), t, tokens, "", FinishReason.MAX_TOKENS,
                    new Batching(2, 10), PROVENANCE));
        }
        AuditWindow w = Audit.summarize(results, T0, T0 + 10_000, 99);
        assertEquals(100, w.getNumRequests());
        assertEquals(100, w.getNumWithSlo());
        assertEquals(90, w.getNumSloMet());
        assertEquals(0.90, w.getAttainment(), 1e-12);
        assertEquals(10.0, w.getRequestsPerSecond(), 1e-12);
        assertEquals(9.0, w.getGoodputRequestsPerSecond(), 1e-12);
        assertEquals(5050 / 10.0, w.getOutputTokensPerSecond(), 1e-12);
        assertEquals(500.0, w.getEndToEndP50Ms(), 1e-9);
        assertEquals(900.0, w.getEndToEndP90Ms(), 1e-9);
        assertEquals(990.0, w.getEndToEndP99Ms(), 1e-9);
        assertEquals(1000.0, w.getBoundLengthLatencyMs(), 1e-9, "SLA-(b): the worst of the requests with >= 99 tokens");
        assertEquals(2.0, w.getEstimatorMeanAbsErrorTokens(), 1e-12);
        assertEquals(2.0, w.getMeanEncodeBatchSize(), 1e-12);
        assertEquals("plan-a", w.getScheduleId());
    }

    @Test
    void percentileShouldUseTheNearestRank() {
        double[] v = {1, 2, 3, 4};
        assertEquals(2, Audit.percentile(v, 0.5));
        assertEquals(4, Audit.percentile(v, 0.99));
        assertEquals(1, Audit.percentile(v, 0.0));
        assertEquals(0, Audit.percentile(new double[0], 0.5));
    }
}
