package dev.exegpt.job.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import dev.exegpt.schemas.InferenceResult;

/** The figures every table shows: the span of schedule versions, both SLO clocks, rates over the span. */
class RunFiguresTest {

    private static final long T0 = ReportFixtures.T0;

    @Test
    void theSpanShouldBeEachVersionsFirstArrivalToLastCompletionLeavingOutTheTimeBetween() {
        List<InferenceResult> rs = new ArrayList<>();
        rs.add(version(ReportSeriesTest.result("a", "e", 0, 100, 50, 1_000, 1), 1));           // v1: 0 .. 1000 ms
        rs.add(version(ReportSeriesTest.result("b", "e", 0, 600, 50, 2_000, 1), 1));           // v1: 0 .. 2000 ms
        rs.add(version(ReportSeriesTest.result("c", "e", 10_000, 100, 50, 1_000, 1), 2));      // v2: 10 s .. 11 s
        rs.add(version(ReportSeriesTest.result("d", "e", 10_500, 100, 50, 1_000, 1), 3));      // v3 overlaps v2: 10.5 .. 11.5 s
        RunFigures f = RunFigures.of(rs);
        assertEquals(2_000 + 1_500, f.spanMs(), "v1, then v2 and v3 merged; not the 9.5 s without a request");
        assertEquals(2, f.numSpans());
        assertEquals(4 * 1000.0 / 3_500, f.requestsPerSecond(), 1e-9);
        assertEquals(f.requestsPerSecond(), 4 * 1000.0 / f.spanMs(), 1e-12, "the audit window runs over the same span");
    }

    @Test
    void bothClocksShouldCountTheSloThatAppliedAndArrivalShouldBeTheJobsVerdict() {
        List<InferenceResult> rs = new ArrayList<>();
        rs.add(slo(ReportSeriesTest.result("a", "e", 0, 100, 50, 400, 1), 500));     // 400 from arrival, 300 from encode start
        rs.add(slo(ReportSeriesTest.result("b", "e", 0, 700, 50, 1_000, 1), 500));   // 1000 / 300: met only from encode start
        rs.add(slo(ReportSeriesTest.result("c", "e", 0, 100, 50, 900, 1), 500));     // 900 / 800: met on neither
        rs.add(ReportSeriesTest.result("d", "e", 0, 0, 50, 100, 1));                 // no SLO: counted in no attainment
        RunFigures f = RunFigures.of(rs);
        assertEquals(new RunFigures.Slo(SloClock.ARRIVAL, 1, 3, 0, 400, 1_000, 1_000), f.fromArrival());
        assertEquals(new RunFigures.Slo(SloClock.ENCODE_START, 2, 3, 0, 300, 800, 800), f.fromEncodeStart());
        assertEquals(1 / 3.0, f.on(SloClock.ARRIVAL).attainment(), 1e-12);
        assertEquals(2 / 3.0, f.on(SloClock.ENCODE_START).attainment(), 1e-12);
        assertEquals(f.pooled().getNumSloMet(), f.fromArrival().numMet(), "from arrival is the job's sloMet");
        assertEquals(2 * 1000.0 / f.spanMs(), f.goodputPerSecond(SloClock.ENCODE_START), 1e-12);
        assertNull(RunFigures.of(List.of(rs.get(3))).fromArrival().attainment());
    }

    @Test
    void aRequestAnsweredWithoutItsTokensShouldMissTheSloHoweverSoonAndStayOutOfThePercentiles() {
        List<InferenceResult> rs = new ArrayList<>();
        rs.add(slo(ReportSeriesTest.result("a", "e", 0, 100, 50, 400, 1), 500));
        rs.add(slo(ReportSeriesTest.result("b", "e", 0, 100, 50, 900, 1), 500));
        InferenceResult refused = slo(ReportSeriesTest.result("c", "e", 0, 5, 0, 5, 1), 500);
        rs.add(InferenceResult.newBuilder(refused).setFinishReason(dev.exegpt.schemas.FinishReason.DEADLINE)
                .setErrorMessage("admission (reject-late): ...").build());
        RunFigures.Slo s = RunFigures.of(rs).fromArrival();
        assertEquals(new RunFigures.Slo(SloClock.ARRIVAL, 1, 3, 1, 400, 900, 900), s, "answered in 5 ms, and still a miss");
        assertEquals(1 / 3.0, s.attainment(), 1e-12);
        assertEquals(1 / 2.0, s.acceptedAttainment(), 1e-12, "of the two it accepted, one met the SLO");
    }

    @Test
    void noResultsShouldGiveDashesNotNumbers() {
        RunFigures f = RunFigures.of(List.of());
        assertEquals(0, f.numSpans());
        assertEquals("-", Figure.requestsPerSecond().value().apply(f));
        assertEquals("-", Figure.attainment(SloClock.ARRIVAL, true).value().apply(f));
    }

    private static InferenceResult version(InferenceResult r, int version) {
        return InferenceResult.newBuilder(r).setScheduleId("s").setScheduleVersion(version).build();
    }

    private static InferenceResult slo(InferenceResult r, long sloMs) {
        return InferenceResult.newBuilder(r).setSloLatencyMs(sloMs).setSloMet(r.getLatency().getEndToEndMs() <= sloMs).build();
    }
}
