package dev.exegpt.scheduler.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import org.junit.jupiter.api.Test;

import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.cost.fit.MeasuredStep;
import dev.exegpt.scheduler.cost.fit.ProfileScaling;
import dev.exegpt.scheduler.cost.fit.StepFit;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.EventSimulator;
import dev.exegpt.scheduler.sim.Pipeline;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.scheduler.workload.LengthSample;
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
        Planned p = Planned.at(2);
        double slo = p.slo();
        Estimate planned = p.best();
        ControlLoop loop = p.loop(ControlLoop.Settings.DEFAULTS);

        // At the profile's price: the plan stands.
        double t = warmedUp(loop, planned.candidate());
        t = run(loop, planned.candidate(), 1.0, t, 200);
        assertEquals(Optional.empty(), loop.decide(t));
        assertFalse(loop.lastCheck().contains("warms up"), loop.lastCheck());
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
        Planned p = Planned.at(2);
        double slo = p.slo();
        Estimate planned = p.best();
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
        Planned p = Planned.at(2);
        double slo = p.slo();
        Estimate planned = p.best();
        ControlLoop loop = p.loop(ControlLoop.Settings.DEFAULTS);
        double t = run(loop, planned.candidate(), 1.0, warmedUp(loop, planned.candidate()), 100);
        double rate = 0.7 * planned.sequencesPerSecond();
        for (int i = 0; i < 200; i++) loop.arrived(t - (200 - i) * 1000 / rate);
        assertEquals(rate, loop.arrivalsPerSecond(t), 0.05 * rate);
        assertEquals(Optional.empty(), loop.decide(t), loop.lastCheck());
        assertFalse(loop.lastCheck().contains("warms up"), loop.lastCheck());
        assertTrue(loop.lastCheck().matches(".*arrivals [0-9.]+/s; running .* p99 [0-9]+ ms from arrival.*"), loop.lastCheck());
        // Too few arrivals to tell a rate: judged at saturation, as the bulk (offline) mode is.
        ControlLoop bulk = p.loop(ControlLoop.Settings.DEFAULTS);
        assertTrue(Double.isNaN(bulk.arrivalsPerSecond(0)));
        // A lone request 20 s before a stream of 6 a second (a readiness probe) does not stretch the span.
        ControlLoop probed = p.loop(ControlLoop.Settings.DEFAULTS);
        probed.arrived(0);
        for (int i = 0; i < 18; i++) probed.arrived(20_000 + i * 1000 / 6.0);
        assertEquals(6, probed.arrivalsPerSecond(20_000 + 18 * 1000 / 6.0), 0.6);
    }

    @Test
    void lengthsCensoredByAdmissionAreNotDriftAndADriftIsPlannedForOnce() {
        Planned p = Planned.at(2);
        double slo = p.slo();
        Estimate planned = p.best();
        ControlLoop.Settings fast = new ControlLoop.Settings(1_000, 1_000, 50, 400, 0.2, 0.15, 30_000, 200, 10, 0.05);
        int longer = (int) Math.round(1.5 * SCENARIO.workload().meanOutputTokens());

        // Outputs 50% longer than planned, while 10% of the requests were refused: the finished ones are a biased sample.
        ControlLoop censored = p.loop(fast);
        double t = run(censored, planned.candidate(), 1.0, warmedUp(censored, planned.candidate()), 100);
        for (int i = 0; i < 300; i++) {
            if (i % 10 == 0) censored.refused(); else censored.finished(longer);
        }
        assertEquals(Optional.empty(), censored.decide(t), censored.lastCheck());
        assertFalse(censored.lastCheck().contains("warms up"), censored.lastCheck());
        assertTrue(censored.lastCheck().contains("not judged for drift: 10% of the last 200"), censored.lastCheck());

        // The same lengths, all of them run: one re-plan for the drift, then none while the lengths stay as they are.
        ControlLoop loop = p.loop(fast);
        t = run(loop, planned.candidate(), 1.0, warmedUp(loop, planned.candidate()), 100);
        for (int i = 0; i < 300; i++) loop.finished(longer);
        ControlLoop.Decision d = loop.decide(t).orElseThrow(() -> new AssertionError(loop.lastCheck()));
        assertTrue(d.reason().contains("drifted"), d.reason());
        for (int k = 1; k <= 5; k++) {
            t = run(loop, d.candidate(), 1.0, t + 2_000, 20);
            for (int i = 0; i < 50; i++) loop.finished(longer);
            Optional<ControlLoop.Decision> again = loop.decide(t);
            assertTrue(again.isEmpty() || !again.get().reason().contains("drifted"), "drift judged against the lengths planned for: "
                    + again.map(ControlLoop.Decision::reason).orElse(""));
        }
    }

    @Test
    void stepsOlderThanTwentySecondsLeaveTheFitOnceEnoughNewerOnesAreIn() {
        Planned p = Planned.at(2);
        double slo = p.slo();
        Estimate planned = p.best();
        ControlLoop loop = p.loop(ControlLoop.Settings.DEFAULTS);
        double t = run(loop, planned.candidate(), 2.0, warmedUp(loop, planned.candidate()), 400);   // 100 encodes at twice their price
        loop.decide(t);
        assertEquals(2.0, loop.encodeFactor(), 0.05);
        // 30 s later, 60 encodes at their price: the window would hold 160, 100 of them slow; the old ones have aged out.
        t = run(loop, planned.candidate(), 1.0, t + 30_000, 240);
        loop.decide(t + 6_000);
        assertEquals(1.0, loop.encodeFactor(), 0.05, loop.lastCheck());
        assertEquals(1.0, loop.decodeFactor(), 0.05, loop.lastCheck());
    }

    @Test
    void aMachineSixTimesSlowerFitsAsSixNotAsTheShortFitRoundsClampOfThree() {
        Planned p = Planned.at(20);
        double slo = p.slo();
        Estimate planned = p.best();
        ControlLoop loop = p.loop(ControlLoop.Settings.DEFAULTS);
        loop.decide(run(loop, planned.candidate(), 6.0, 0, 1600));
        assertEquals(6.0, loop.decodeFactor(), 0.1, loop.lastCheck());
        assertEquals(6.0, loop.encodeFactor(), 0.1);
        ControlLoop capped = p.loop(ControlLoop.Settings.DEFAULTS);
        capped.decide(run(capped, planned.candidate(), 40.0, 0, 1600));
        assertEquals(ControlLoop.Settings.DEFAULTS.maxFactor(), capped.decodeFactor(), 1e-9, "held at the loop's own bound");
    }

    @Test
    void warmingUpThePlannerDecidesAndChangesNothing() {
        Planned p = Planned.at(2);
        double slo = p.slo();
        Estimate planned = p.best();
        ControlLoop loop = p.loop(ControlLoop.Settings.DEFAULTS);
        assertTrue(loop.warmUp(2) > 0);
        assertEquals(planned.candidate(), loop.running());
        assertEquals(1.0, loop.decodeFactor(), 1e-9);
        double t = run(loop, planned.candidate(), 1.0, 0, 200);
        assertEquals(Optional.empty(), loop.decide(t), "nothing decided by the warm-up: " + loop.lastCheck());
    }

    @Test
    void theCapacityOnASlowedMachineShouldBeTheScheduleUnderWhichTheMostOfTheseRequestsMeetTheSlo() {
        Planned p = Planned.at(2);
        double slo = p.slo();
        Estimate planned = p.best();
        ControlLoop loop = p.loop(ControlLoop.Settings.DEFAULTS);
        double t = run(loop, planned.candidate(), 1.5, 0, 1600);
        assertEquals(Optional.empty(), loop.capacity(List.of()), "no requests: nothing to deliver");

        // The planned schedule's throughput offered on the slowed machine: more than it can serve there.
        RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(3);
        double[] at = new ArrivalProcess.Poisson(planned.sequencesPerSecond()).arrivalsMs(300, rng);
        List<EventSimulator.GivenRequest> requests = new java.util.ArrayList<>();
        for (double a : at) {
            LengthSample l = SCENARIO.workload().sample(rng);
            requests.add(new EventSimulator.GivenRequest(l.numInputTokens(), l.numOutputTokens(), a));
        }
        ControlLoop.Capacity c = loop.capacity(requests).orElseThrow();
        assertEquals(1.5, c.decodeFactor(), 0.05);
        assertEquals(300, c.numRequests());
        assertTrue(c.numMet() > 0 && c.numMet() < 300, "the slowed machine cannot serve the planned rate: " + c.describe());

        // Checked by hand: no schedule of the ladder, nor the running one, does better on the fitted profile.
        XSimulator fitted = new XSimulator(new Scenario(new ProfiledCostModel(ProfileCodec.toTable(ProfileScaling.scaled(PROFILE,
                c.encodeFactor(), c.decodeFactor(), "x")), DeviceSpec.A100_80GB), 4, 8, Workloads.byName("S"), SimOptions.DEFAULTS));
        EventSimulator.Run underPlanned = new EventSimulator(fitted).run(planned.candidate(), requests);
        int metPlanned = 0;
        for (int i = 0; i < requests.size(); i++) {
            if (underPlanned.requests().get(i).finishMs() - requests.get(i).arrivedMs() <= slo) metPlanned++;
        }
        assertTrue(c.numMet() >= metPlanned, c.describe() + " against the planned schedule's " + metPlanned);
        assertEquals(c.numMet() * 1000.0 / (at[at.length - 1] - at[0]), c.goodputPerSecond(), 1e-6);
        assertEquals(planned.candidate(), loop.running(), "a capacity query decides nothing");
    }

    @Test
    void aStreamingChoiceShouldTightenTheServiceBoundUntilTheQueueFitsTheSlo() {
        XSimulator sim = new XSimulator(SCENARIO);
        double slo = 2 * new XScheduler(sim).plan(Double.POSITIVE_INFINITY, POLICIES).fastest().latencyMs();
        StreamingChoice choice = StreamingChoice.overPolicies(sim, POLICIES, slo);
        Estimate atTheBound = choice.bestAndFastest(slo)[0];
        // Offered each candidate's own throughput: the best at the bound queues past the SLO.
        StreamingChoice.Choice c = choice.choose(e -> e.sequencesPerSecond());
        assertTrue(choice.p99E2eMs(atTheBound.candidate(), atTheBound.sequencesPerSecond()) > slo, "the premise");
        assertTrue(c.boundMs() < slo, c.describe());
        assertTrue(c.meets(slo) || c.p99E2eMs() < choice.p99E2eMs(atTheBound.candidate(), atTheBound.sequencesPerSecond()),
                c.describe());
        // Without a rate: the paper's plan, the best within the SLO as a service bound.
        assertEquals(atTheBound.candidate(), choice.choose(e -> Double.NaN).candidate());
        assertTrue(choice.ladder().stream().anyMatch(e -> e.candidate().equals(c.candidate())), "the choice is on the ladder");
    }

    @Test
    void atAKnownRateAScheduleOverTheSloAtSaturationIsChosenWhenItsQueueMeetsTheSlo() {
        XSimulator sim = new XSimulator(SCENARIO);
        Estimate fastest = new XScheduler(sim).plan(Double.POSITIVE_INFINITY, POLICIES).fastest();
        double slo = 0.99 * fastest.latencyMs();
        StreamingChoice choice = StreamingChoice.overPolicies(sim, POLICIES, slo);
        assertNull(choice.bestAndFastest(slo)[0], "the premise: no schedule meets the SLO as a service bound");
        double rate = 0.3 * fastest.sequencesPerSecond();
        // Here the fastest schedule's own p99 from arrival (626 ms: the workload's longest outputs) is over its 440 ms for a
        // bound-length output at saturation; a schedule of larger batches within a looser bound is not (677 ms at
        // saturation, 429 from arrival at this rate).
        StreamingChoice.Choice c = choice.choose(e -> rate);
        assertTrue(c.p99E2eMs() <= slo, c.describe());
        assertTrue(c.boundMs() > slo, c.describe());
        // Without a rate (the bulk mode): the fastest, and admission control answers what cannot make it.
        StreamingChoice.Choice bulk = choice.choose(e -> Double.NaN);
        assertEquals(fastest.candidate(), bulk.candidate());
        assertTrue(Double.isInfinite(bulk.boundMs()), bulk.describe());

        // The loop running that choice at that rate sees no miss: its service time at saturation is not the SLO's clock.
        ControlLoop loop = new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, c.candidate(),
                ControlLoop.Settings.DEFAULTS);
        double t = run(loop, c.candidate(), 1.0, warmedUp(loop, c.candidate()), 200);
        for (int i = 0; i < 200; i++) loop.arrived(t - (200 - i) * 1000 / rate);
        Optional<ControlLoop.Decision> d = loop.decide(t);
        assertFalse(loop.lastCheck().contains("warms up"), loop.lastCheck());
        assertTrue(d.isEmpty() || !d.get().reason().contains("for a bound-length output, over the SLO"),
                d.map(ControlLoop.Decision::describe).orElse(loop.lastCheck()));
    }

    @Test
    void underOverloadTheLoopTakesTheHighestThroughputWithinTheSloAtSaturationAndKeepsItWhateverTheRate() {
        Planned p = Planned.at(2);
        double slo = p.slo();
        // Running: the best within twice the SLO, whose bound-length output at saturation is over the SLO.
        Estimate loose = new XScheduler(new XSimulator(SCENARIO)).plan(2 * slo, POLICIES).best();
        assertFalse(loose.meets(slo), "the premise: " + loose.latencyMs() + " ms against " + slo);
        ControlLoop loop = new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, loose.candidate(),
                ControlLoop.Settings.DEFAULTS);
        double t = run(loop, loose.candidate(), 1.0, warmedUp(loop, loose.candidate()), 200);
        double rate = 3 * new XSimulator(SCENARIO).estimate(loose.candidate()).sequencesPerSecond();   // more than any serves
        for (int i = 0; i < 200; i++) loop.arrived(t - (200 - i) * 1000 / rate);
        ControlLoop.Decision d = loop.decide(t).orElseThrow(() -> new AssertionError(loop.lastCheck()));
        assertEquals(p.best().candidate(), d.candidate(), d.describe());
        assertTrue(d.reason().contains("within the SLO at saturation"), d.reason());
        assertTrue(d.predicted().meets(slo), d.describe());

        // The overload goes on at another rate, past the dwell: the choice does not follow the rate, so nothing changes.
        double t2 = run(loop, d.candidate(), 1.0, t + 16_000, 200);
        for (double a = t; a < t2; a += 1000 / (0.8 * rate)) loop.arrived(a);
        assertEquals(Optional.empty(), loop.decide(t2), loop.lastCheck());
        assertTrue(loop.lastCheck().contains("within it at saturation"), loop.lastCheck());
    }

    @Test
    void aPhaseWithTooFewStepsOfItsOwnTakesTheOtherPhasesFactor() {
        Planned p = Planned.at(2);
        Candidate c = p.best().candidate();
        ControlLoop loop = p.loop(ControlLoop.Settings.DEFAULTS);
        double t = warmedUp(loop, c);
        XSimulator.Layout layout = new XSimulator(SCENARIO).layout(c);
        Role decoder = c.policy().isWaa() ? Role.DECODER : Role.FULL;
        Pipeline pipeline = c.policy().isWaa() ? layout.decoder() : layout.encoder();
        int[] lengths = {300, 500, 200, 400};
        for (int i = 0; i < 100; i++) {                                      // decode steps only, at twice their price
            MeasuredStep priced = new MeasuredStep(Phase.DECODE, 0, 0, lengths, 1600);
            double ms = 2 * StepFit.predictedMs(priced, pipeline);
            loop.observe(new MeasuredStep(Phase.DECODE, t, t + ms, lengths, 1600), decoder);
            t += Math.max(10, ms);
        }
        loop.fitSteps();
        assertEquals(2.0, loop.decodeFactor(), 0.05);
        assertEquals(2.0, loop.encodeFactor(), 0.05, "no encode step of its own: the decode's factor, not x1");
        // With encode steps of its own (at their price), the encode has its own factor.
        t = run(loop, c, 1.0, t, 400);
        loop.fitSteps();
        assertEquals(1.0, loop.encodeFactor(), 0.05);
    }

    /** The planner's best schedule on the profile, at an SLO of {@code times} the fastest schedule's latency. */
    private record Planned(double slo, Estimate best) {
        static Planned at(double times) {
            XScheduler planner = new XScheduler(new XSimulator(SCENARIO));
            double slo = times * planner.plan(Double.POSITIVE_INFINITY, POLICIES).fastest().latencyMs();
            return new Planned(slo, planner.plan(slo, POLICIES).best());
        }

        ControlLoop loop(ControlLoop.Settings settings) {
            return new ControlLoop(PROFILE, DeviceSpec.A100_80GB, SCENARIO, slo, POLICIES, best.candidate(), settings);
        }
    }

    /**
     * A job's first step at 0 and its warm-up over: what it measures from the returned time on is fitted and acted on
     * ({@link ControlLoop#WARM_UP_MS}).
     */
    private static double warmedUp(ControlLoop loop, Candidate c) {
        run(loop, c, 1.0, 0, 1);
        return ControlLoop.WARM_UP_MS;
    }

    @Test
    void aJobsFirstSecondsAreNeitherFittedNorActedOn() {
        Planned p = Planned.at(2);
        ControlLoop loop = p.loop(ControlLoop.Settings.DEFAULTS);
        // The first 15 s at three times the price (the job starting beside its engines): no change, no fit of them.
        double t = run(loop, p.best().candidate(), 3.0, 0, 300);
        assertTrue(t < ControlLoop.WARM_UP_MS, "the premise: all within the warm-up");
        assertEquals(Optional.empty(), loop.decide(t), loop.lastCheck());
        assertTrue(loop.lastCheck().contains("no change while the job warms up"), loop.lastCheck());
        assertEquals(1.0, loop.decodeFactor(), 1e-9);
        // After it, the steps at their price are what the loop sees: the plan stands.
        t = run(loop, p.best().candidate(), 1.0, ControlLoop.WARM_UP_MS, 200);
        assertEquals(Optional.empty(), loop.decide(t), loop.lastCheck());
        assertEquals(1.0, loop.decodeFactor(), 0.01, loop.lastCheck());
        assertEquals(1.0, loop.encodeFactor(), 0.01, loop.lastCheck());
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
