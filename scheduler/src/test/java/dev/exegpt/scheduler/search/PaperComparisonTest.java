package dev.exegpt.scheduler.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.search.PaperComparison.Bound;
import dev.exegpt.scheduler.sim.XSimulator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The paper's bounds for a scenario, as compare --paper and bench --sweep derive them. */
class PaperComparisonTest {

    @Test
    void boundsAreStaticsPercentilesAscendingThenNone() {
        XSimulator x = PaperComparison.simulator("opt-13b", "a40:4", "S");
        List<Bound> bounds = PaperComparison.bounds(x, PaperComparison.PAPER_QUANTILES, PaperComparison.PAPER_QUANTILE_NAMES);
        assertEquals(List.of("p10", "p30", "p70", "inf"), bounds.stream().map(Bound::label).toList());
        double[] lat = PaperComparison.staticSweepLatenciesMs(x);
        assertTrue(lat.length > 3, "STATIC has feasible batches here");
        assertTrue(bounds.get(0).ms() >= lat[0] && bounds.get(2).ms() <= lat[lat.length - 1], bounds.toString());
        for (int i = 1; i < bounds.size(); i++) assertTrue(bounds.get(i).ms() > bounds.get(i - 1).ms(), bounds.toString());
        assertTrue(Double.isInfinite(bounds.get(3).ms()));
        // STATIC meets its own p10: the bound lies within its sweep's latencies.
        assertNotNull(Baselines.best(x, Policy.STATIC, bounds.get(0).ms()));
        assertEquals(List.of("inf"), PaperComparison.bounds(x, new double[0], new String[0]).stream().map(Bound::label).toList());
    }
}
