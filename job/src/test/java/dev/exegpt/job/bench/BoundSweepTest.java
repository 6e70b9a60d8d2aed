package dev.exegpt.job.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.search.PaperComparison;
import dev.exegpt.scheduler.search.PaperComparison.Bound;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/** bench --sweep's bounds, request rule and per-bound summaries. */
class BoundSweepTest {

    @Test
    void boundsAreTheTightestFeasibleThenThePapersAscending() {
        XSimulator x = PaperComparison.simulator("opt-13b", "a40:4", "S");
        List<Bound> bounds = BoundSweep.bounds(x, List.of(Policy.RRA));
        assertEquals(java.util.Set.of("tightest", "2x-tightest", "4x-tightest", "p10", "p30", "p70", "inf"),
                java.util.Set.copyOf(bounds.stream().map(Bound::label).toList()), bounds.toString());
        for (int i = 1; i < bounds.size(); i++) assertTrue(bounds.get(i).ms() >= bounds.get(i - 1).ms(), "ascending: " + bounds);
        Bound tightest = bounds.get(0);
        assertEquals("tightest", tightest.label());
        assertEquals(4 * tightest.ms(), bounds.stream().filter(b -> b.label().equals("4x-tightest")).findFirst().orElseThrow().ms());
        assertTrue(new XScheduler(x).plan(tightest.ms(), List.of(Policy.RRA)).feasible(), "the tightest bound is feasible");
        assertTrue(!new XScheduler(x).plan(tightest.ms() - 1, List.of(Policy.RRA)).feasible(), "and nothing tighter is");
        assertEquals(PaperComparison.bounds(x, PaperComparison.PAPER_QUANTILES, PaperComparison.PAPER_QUANTILE_NAMES),
                bounds.stream().filter(b -> b.label().startsWith("p") || b.label().equals("inf")).toList(),
                "compare --paper's bounds, the same code");
        Bound none = bounds.get(bounds.size() - 1);
        assertEquals(BoundSweep.UNBOUNDED_SLO_MS, BoundSweep.requestSloMs(none));
        assertEquals((long) Math.ceil(bounds.get(2).ms()), BoundSweep.requestSloMs(bounds.get(2)));
        // Each policy at each bound is tuned for it: at the loosest finite bound every policy has a schedule.
        Map<String, ?> planned = BoundSweep.plan(x, List.of(Policy.RRA), bounds.get(bounds.size() - 2));
        assertEquals(BoundSweep.POLICIES, List.copyOf(planned.keySet()));
    }

    @Test
    void requestsPerRoundAreTenTimesTheLargestBatchWithinTheLimits() {
        assertEquals(BoundSweep.MIN_REQUESTS, BoundSweep.requestsPerRound(List.of(schedule(1, 2)), 120));
        assertEquals(80, BoundSweep.requestsPerRound(List.of(schedule(2, 8), schedule(1, 4)), 120));
        assertEquals(120, BoundSweep.requestsPerRound(List.of(schedule(4, 64)), 120));
        assertEquals(48, BoundSweep.requestsPerRound(List.of(schedule(4, 64)), BoundSweep.QUICK_MAX_REQUESTS));
        assertEquals(60, BoundSweep.requestsPerRound(List.of(schedule(6, 0)), 120), "a STATIC batch is its encode batch");
    }

    @Test
    void ratiosAreTakenRoundByRoundAndMissingPoliciesAreNs() {
        Map<String, double[]> goodput = new LinkedHashMap<>();
        goodput.put("ExeGPT", new double[] {4.0, 6.0, 5.0});
        goodput.put("STATIC", new double[] {2.0, 2.0, 4.0});
        BoundSweep.BoundResult r = new BoundSweep.BoundResult(new Bound("p10", 1234), goodput, Map.of(), Map.of());
        assertArrayEquals(new double[] {5.0, 4.0, 6.0}, r.goodput("ExeGPT"), 1e-12);
        assertArrayEquals(new double[] {2.0, 1.25, 3.0}, r.ratio("STATIC"), 1e-12);
        assertNull(r.ratio("vLLM"));
        assertNull(r.goodput("vLLM"));
        assertEquals(List.of("p10", "1234", "5.00 [4.00..6.00]", "2.00 [2.00..4.00]", "n/a", "2.00x [1.25..3.00]", "n/a"),
                BoundSweep.rows(List.of(r)).get(0));
    }

    private static Schedule schedule(int encodeBatch, int decodeBatch) {
        return Schedule.newBuilder().setScheduleId("s").setVersion(1).setTask("S").setPolicy(SchedulePolicy.RRA).setNumDevices(1)
                .setEncodeBatchSize(encodeBatch).setDecodeBatchSize(decodeBatch).setDecodeIterationsPerEncode(1).build();
    }
}
