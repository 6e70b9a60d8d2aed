package dev.exegpt.operators.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;

class AuditReportTest {

    private static final long T0 = 1_767_225_600_000L;     // 2026-01-01T00:00Z

    private static InferenceResult result(String id, String task, int version, double queueMs, double encodeMs,
                                          double decodeMs, long completedOffsetMs, boolean met) {
        RequestLatency l = RequestLatency.newBuilder().setArrivedEpochMs(T0).setCompletedEpochMs(T0 + completedOffsetMs)
                .setQueueMs(queueMs).setEncodeMs(encodeMs).setDecodeMs(decodeMs).setTtftMs(queueMs + encodeMs)
                .setEndToEndMs(queueMs + encodeMs + decodeMs).build();
        return InferenceResult.newBuilder().setRequestId(id).setTask(task).setNumInputTokens(3).setNumOutputTokens(4)
                .setFinishReason(dev.exegpt.schemas.FinishReason.MAX_TOKENS).setLatency(l).setSloLatencyMs(1000L).setSloMet(met).setScheduleId("p").setScheduleVersion(version).build();
    }

    @Test
    void shouldGroupByTaskScheduleAndHourAndNameTheSlowestStage() {
        List<InferenceResult> rs = new ArrayList<>();
        rs.add(result("a", "S", 1, 10, 20, 300, 1_000, true));
        rs.add(result("b", "S", 2, 900, 20, 300, 3_600_000 + 5, false));
        rs.add(result("c", "T", 2, 10, 500, 30, 2_000, true));
        AuditReport report = new AuditReport(rs);

        assertEquals(List.of("S", "T"), report.byTask().stream().map(AuditReport.Group::label).toList());
        assertEquals(0.5, report.byTask().get(0).audit().getAttainment(), 1e-12);
        assertEquals(List.of("p v1", "p v2"), report.bySchedule().stream().map(AuditReport.Group::label).toList());
        assertEquals(List.of("2026-01-01T00", "2026-01-01T01"), report.byHour().stream().map(AuditReport.Group::label).toList());
        assertEquals(3, report.overall().getNumRequests());

        List<AuditReport.Slow> slowest = report.slowest(2);
        assertEquals("b", slowest.get(0).requestId());
        assertEquals("queue", slowest.get(0).dominantStage());
        assertEquals("c", slowest.get(1).requestId());
        assertEquals("encode", slowest.get(1).dominantStage());
        assertEquals("decode", report.slowest(3).get(2).dominantStage());
    }
}
