package dev.exegpt.scheduler.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.cost.fit.MeasuredStep;
import dev.exegpt.scheduler.cost.fit.StepFit;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.Pipeline;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.Profile;

/**
 * The job's planner on a profile it can be checked against: steps measured at the profile's price change nothing;
 * a machine that runs every step at twice the price makes it fit x2 and move to a schedule that meets the bound on
 * the slowed machine, once (hysteresis); the machine back at speed makes it move back to the faster schedule.
 */
class ControlLoopTest {

    private static final Profile PROFILE = ProfileCodec.fromTable(
            ProfileTable.tabulate(new RooflineCostModel(ModelSpecs.byName("t5-11b"), DeviceSpec.A100_80GB), "a100"), "analytic");
    private static final Scenario SCENARIO = new Scenario(new ProfiledCostModel(ProfileCodec.toTable(PROFILE), DeviceSpec.A100_80GB),
            4, 8, Workloads.byName("S"), SimOptions.DEFAULTS);
    private static final List<Policy> POLICIES = List.of(Policy.RRA, Policy.WAA_C, Policy.WAA_M);

    @Test
    void aMachineThatSlowsDownGetsASlowerScheduleOnceAndTheFastOneBackWhenItRecovers() {
        XScheduler planner = new XScheduler(new XSimulator(SCENARIO));
        double slo = 2 * planner.plan(Double.POSITIVE_INFINITY, POLICIES).fastest().latencyMs();
        Estimate planned = planner.plan(slo, POLICIES).best();
        ControlLoop loop = new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, planned.candidate(),
                ControlLoop.Settings.DEFAULTS);

        // At the profile's price: the plan stands.
        double t = 0;
        t = run(loop, planned.candidate(), 1.0, t, 200);
        assertEquals(Optional.empty(), loop.decide(t));
        assertEquals(1.0, loop.encodeFactor(), 1e-9);
        assertEquals(1.0, loop.decodeFactor(), 1e-9);

        // Every step at twice its price (another process took half the machine): one new schedule that meets the bound
        // on the slowed machine.
        t = run(loop, planned.candidate(), 2.0, t + 10_000, 1600);       // the window (400 steps a phase) all slow
        Optional<ControlLoop.Decision> slowed = loop.decide(t);
        assertTrue(slowed.isPresent(), "a re-plan after the slowdown");
        ControlLoop.Decision d = slowed.get();
        assertEquals(2.0, d.encodeFactor(), 0.05);
        assertEquals(2.0, d.decodeFactor(), 0.05);
        assertTrue(d.reason().contains("over the SLO"), d.reason());
        assertNotEquals(planned.candidate(), d.candidate());
        assertTrue(d.predicted().meets(slo), d.describe());
        // Hysteresis: the same measurements right after decide nothing new.
        t = run(loop, d.candidate(), 2.0, t + 6_000, 50);
        assertEquals(Optional.empty(), loop.decide(t));

        // The machine recovers: the faster schedule comes back once the window has forgotten the slow steps.
        t = run(loop, d.candidate(), 1.0, t + 20_000, 1600);
        Optional<ControlLoop.Decision> recovered = loop.decide(t);
        assertTrue(recovered.isPresent(), "back to a higher-throughput schedule");
        assertTrue(recovered.get().reason().contains("leaves throughput unused"), recovered.get().reason());
        assertEquals(1.0, recovered.get().decodeFactor(), 0.05);
        assertTrue(recovered.get().predicted().sequencesPerSecond() > d.predicted().sequencesPerSecond());
    }

    @Test
    void inARunningJobTheLoopKeepsTheEnginesLayoutAndChangesTheBatches() {
        XScheduler planner = new XScheduler(new XSimulator(SCENARIO));
        double slo = 2 * planner.plan(Double.POSITIVE_INFINITY, POLICIES).fastest().latencyMs();
        Estimate planned = planner.plan(slo, POLICIES).best();
        ControlLoop loop = new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, planned.candidate(),
                ControlLoop.Settings.DEFAULTS, true);
        double t = run(loop, planned.candidate(), 1.5, 0, 1600);
        ControlLoop.Decision d = loop.decide(t).orElseThrow();
        Candidate before = planned.candidate(), after = d.candidate();
        assertEquals(before.policy(), after.policy(), d.describe());
        assertEquals(before.numDevices(), after.numDevices());
        assertEquals(before.tpDegree(), after.tpDegree());
        assertEquals(before.numTpDevices(), after.numTpDevices());
        assertNotEquals(before, after);
        assertTrue(d.predicted().meets(slo), d.describe());
    }

    @Test
    void atAnObservedRateThePlanIsJudgedFromArrivalAndStaysWhileItsQueueMeetsTheSlo() {
        XScheduler planner = new XScheduler(new XSimulator(SCENARIO));
        double fastest = planner.plan(Double.POSITIVE_INFINITY, POLICIES).fastest().latencyMs();
        double slo = 2 * fastest;
        Estimate planned = planner.plan(slo, POLICIES).best();
        ControlLoop loop = new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, planned.candidate(),
                ControlLoop.Settings.DEFAULTS);
        double t = run(loop, planned.candidate(), 1.0, 0, 100);
        double rate = 0.7 * planned.sequencesPerSecond();
        for (int i = 0; i < 200; i++) loop.arrived(t - (200 - i) * 1000 / rate);
        assertEquals(rate, loop.arrivalsPerSecond(t), 0.05 * rate);
        assertEquals(Optional.empty(), loop.decide(t), loop.lastCheck());
        assertTrue(loop.lastCheck().matches(".*arrivals [0-9.]+/s; running .* p99 [0-9]+ ms from arrival.*"), loop.lastCheck());
        // Too few arrivals to tell a rate: judged at saturation, as the bulk (offline) mode is.
        ControlLoop bulk = new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, planned.candidate(),
                ControlLoop.Settings.DEFAULTS);
        assertTrue(Double.isNaN(bulk.arrivalsPerSecond(0)));
    }

    @Test
    void aMachineSixTimesSlowerFitsAsSixNotAsTheShortFitRoundsClampOfThree() {
        XScheduler planner = new XScheduler(new XSimulator(SCENARIO));
        double slo = 20 * planner.plan(Double.POSITIVE_INFINITY, POLICIES).fastest().latencyMs();
        Estimate planned = planner.plan(slo, POLICIES).best();
        ControlLoop loop = new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, planned.candidate(),
                ControlLoop.Settings.DEFAULTS);
        loop.decide(run(loop, planned.candidate(), 6.0, 0, 1600));
        assertEquals(6.0, loop.decodeFactor(), 0.1, loop.lastCheck());
        assertEquals(6.0, loop.encodeFactor(), 0.1);
        ControlLoop capped = new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, planned.candidate(),
                ControlLoop.Settings.DEFAULTS);
        capped.decide(run(capped, planned.candidate(), 40.0, 0, 1600));
        assertEquals(ControlLoop.Settings.DEFAULTS.maxFactor(), capped.decodeFactor(), 1e-9, "held at the loop's own bound");
    }

    @Test
    void warmingUpThePlannerDecidesAndChangesNothing() {
        XScheduler planner = new XScheduler(new XSimulator(SCENARIO));
        double slo = 2 * planner.plan(Double.POSITIVE_INFINITY, POLICIES).fastest().latencyMs();
        Estimate planned = planner.plan(slo, POLICIES).best();
        ControlLoop loop = new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, planned.candidate(),
                ControlLoop.Settings.DEFAULTS);
        assertTrue(loop.warmUp(2) > 0);
        assertEquals(planned.candidate(), loop.running());
        assertEquals(1.0, loop.decodeFactor(), 1e-9);
        double t = run(loop, planned.candidate(), 1.0, 0, 200);
        assertEquals(Optional.empty(), loop.decide(t), "nothing decided by the warm-up: " + loop.lastCheck());
    }

    @Test
    void theCapacityOnASlowedMachineShouldBeTheBestScheduleWithinTheBoundOnTheFittedProfile() {
        XScheduler planner = new XScheduler(new XSimulator(SCENARIO));
        double slo = 2 * planner.plan(Double.POSITIVE_INFINITY, POLICIES).fastest().latencyMs();
        Estimate planned = planner.plan(slo, POLICIES).best();
        ControlLoop loop = new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, planned.candidate(),
                ControlLoop.Settings.DEFAULTS);
        double t = run(loop, planned.candidate(), 1.5, 0, 1600);
        ControlLoop.Capacity c = loop.capacity(t).orElseThrow();
        assertEquals(1.5, c.decodeFactor(), 0.05);
        assertTrue(c.sequencesPerSecond() < planned.sequencesPerSecond(), "less than on the machine as profiled: " + c.describe());
        assertTrue(Double.isNaN(c.arrivalsPerSecond()) && Double.isNaN(c.p99E2eMs()), "no arrivals seen: no rate");
        assertEquals(c.sequencesPerSecond(), c.goodputPerSecond(), 1e-9, "without a rate: all it serves at saturation");
        double rate = 0.5 * c.sequencesPerSecond();
        for (int i = 0; i < 200; i++) loop.arrived(t - (200 - i) * 1000 / rate);
        ControlLoop.Capacity atRate = loop.capacity(t).orElseThrow();
        assertEquals(rate, atRate.goodputPerSecond(), 0.05 * rate, "below its throughput: the rate offered");
        assertTrue(atRate.p99E2eMs() > 0, atRate.describe());
        assertEquals(planned.candidate(), loop.running(), "a capacity query decides nothing");
    }

    /** Steps of the running schedule measured at {@code slowdown} times their price, one every 10 ms from {@code t}. */
    private static double run(ControlLoop loop, Candidate c, double slowdown, double t, int n) {
        XSimulator sim = new XSimulator(SCENARIO);
        XSimulator.Layout layout = sim.layout(c);
        Role encoder = c.policy().isWaa() ? Role.ENCODER : Role.FULL;
        Role decoder = c.policy().isWaa() ? Role.DECODER : Role.FULL;
        for (int i = 0; i < n; i++) {
            boolean encode = i % 4 == 0;
            int[] lengths = encode ? new int[] {300, 500} : new int[] {300, 500, 200, 400, 350, 450, 250, 300};
            Pipeline p = encode ? layout.encoder() : c.policy().isWaa() ? layout.decoder() : layout.encoder();
            MeasuredStep priced = new MeasuredStep(encode ? Phase.ENCODE : Phase.DECODE, 0, 0, lengths, encode ? 800 : 3200);
            double ms = slowdown * StepFit.predictedMs(priced, p);
            loop.observe(new MeasuredStep(priced.phase(), t, t + ms, lengths, priced.numContextTokens()), encode ? encoder : decoder);
            t += Math.max(10, ms);
        }
        return t;
    }
}
