package dev.exegpt.scheduler.drift;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.TruncatedNormal;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.scheduler.workload.Workloads;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import org.junit.jupiter.api.Test;

class DriftDetectorTest {

    private static DriftDetector fed(Workload planned, TruncatedNormal actual, int n, long seed) {
        DriftDetector d = new DriftDetector(planned.output(), planned.boundOutputTokens(), 1000);
        RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        for (int i = 0; i < n; i++) d.observe(actual.quantile(rng.nextDouble()));
        return d;
    }

    @Test
    void lengthsFromThePlannedDistributionDoNotFire() {
        Workload t = Workloads.byName("T");
        for (long seed = 1; seed <= 20; seed++) {
            assertFalse(fed(t, (TruncatedNormal) t.output(), 1000, seed).check().drifted(), "seed " + seed);
        }
    }

    @Test
    void lengthsFromThePlannedDistributionDoNotFireInAWindowOfTheJobsSize() {
        for (String task : List.of("S", "T")) {
            Workload w = Workloads.byName(task);
            for (long seed = 1; seed <= 50; seed++) {
                DriftDetector d = new DriftDetector(w.output(), w.boundOutputTokens(), DriftDetector.MIN_SAMPLES);
                RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
                for (int i = 0; i < DriftDetector.MIN_SAMPLES; i++) d.observe(w.sample(rng).numOutputTokens());
                DriftDetector.Verdict v = d.check();
                assertFalse(v.drifted(), task + " seed " + seed + ": " + v);
            }
        }
    }

    @Test
    void aLongerTailAloneFires() {
        Workload t = Workloads.byName("T");
        DriftDetector d = new DriftDetector(t.output(), t.boundOutputTokens(), DriftDetector.MIN_SAMPLES);
        RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(9);
        // 3% of the requests run to 1.3x the bound length (the mean moves 5%); the rest keep the planned lengths
        for (int i = 0; i < DriftDetector.MIN_SAMPLES; i++) {
            d.observe(i % 33 == 0 ? (int) (t.boundOutputTokens() * 1.3) : t.output().quantile(rng.nextDouble()));
        }
        DriftDetector.Verdict v = d.check();
        assertTrue(v.drifted() && v.reason().startsWith("p99 output length"), v.toString());
    }

    @Test
    void aThirtyPercentLongerMeanFiresAndTooFewSamplesDoNot() {
        Workload t = Workloads.byName("T");
        TruncatedNormal longer = new TruncatedNormal(128 * 1.3, 68, 320);
        assertTrue(fed(t, longer, 1000, 3).check().drifted());
        assertFalse(fed(t, longer, 100, 3).check().drifted());
    }

    @Test
    void replanningUnderLongerOutputsRestoresTheBound() {
        Workload t = Workloads.byName("T");
        Scenario sc = new Scenario(new RooflineCostModel(ModelSpecs.byName("opt-13b"), DeviceSpec.A40), 4, 8, t, SimOptions.DEFAULTS);
        List<Policy> policies = List.of(Policy.RRA, Policy.WAA_C, Policy.WAA_M);
        double bound = 15000;
        Plan p = new XScheduler(new XSimulator(sc)).plan(bound, policies);
        DriftDetector d = fed(t, new TruncatedNormal(128 * 1.3, 68 * 1.3, 320), 1000, 5);
        Replanner.Outcome o = Replanner.replan(sc, p.best().candidate(), bound, d, policies);
        System.out.println(o.summary());
        assertTrue(o.verdict().drifted());
        assertTrue(o.replanned().feasible());
        assertTrue(o.replanned().best().latencyMs() < bound);
        assertTrue(o.currentUnderDrift().latencyMs() > p.best().latencyMs(), "longer outputs take longer");
    }
}
