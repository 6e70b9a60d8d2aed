package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.plan.Policy;

import dev.exegpt.scheduler.plan.Candidate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.scheduler.cost.CostModel;
import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.scheduler.workload.TruncatedNormal;
import dev.exegpt.scheduler.workload.Workload;
import org.junit.jupiter.api.Test;

/** Each policy's timeline on cases small enough to draw by hand. Time unit U = 100 ms. */
class TimelineTest {
    private static final double U = 100;

    /** Every request has exactly inTokens input and outTokens output tokens. */
    static Workload fixed(int inTokens, int outTokens) {
        return new Workload("fixed", "fixed lengths", "test", new TruncatedNormal(inTokens, 1e-3, inTokens),
                new TruncatedNormal(outTokens, 1e-3, outTokens), 0, outTokens);
    }

    static ModelSpec decoderOnly(int layers) {
        return new ModelSpec("tiny", false, 0, layers, 64, 4, 16, 256, 100, false);
    }

    /**
     * PAPER.md §5.3, Figure 4(b)/(c): 1 encoder GPU and 3 decoder GPUs, one layer each; the encoder stage takes 1 U,
     * a decoder stage 1 U for the whole batch. Two tokens take 1 + 3 + 3 = 7 U without micro-batches and
     * 1 + 5/3 + 1 = 11/3 U with three; our worst case adds one iteration of waiting to be merged.
     */
    @Test
    void waaMatchesFigure4WithAndWithoutMicroBatches() {
        Workload w = fixed(4, 2);
        // B_E = 3 -> B_D = B_E x S_D = 6; decode layer time = batch / 6 U; encoder: 3 layers over 12 tokens = 1 U.
        CostModel cost = Profiles.linear(decoderOnly(3), 1, U / 3 / 12, 0, U / 6, 4);
        XSimulator sim = new XSimulator(new Scenario(cost, 4, 8, w, SimOptions.DEFAULTS.withoutBuffers()));
        Estimate whole = sim.estimate(new Candidate(Policy.WAA_C, 4, 3, 1, 0, 1, 0, 1));
        assertEquals(6, whole.decodeBatchSize());
        assertEquals(3 * U, whole.decodeIterationMs(), 1e-6);
        assertEquals(7 * U + whole.decodeIterationMs(), whole.latencyMs(), 1e-6);
        Estimate micro = sim.estimate(new Candidate(Policy.WAA_C, 4, 3, 1, 2, 1, 0, 1));
        assertEquals(1 * U, micro.decodeIterationMs(), 1e-6);
        assertEquals(11.0 / 3 * U + micro.decodeIterationMs(), micro.latencyMs(), 1e-6);
        // Three micro-batches keep the decoder pipeline full: 3 x more iterations per second, same tokens each.
        assertEquals(3 * whole.sequencesPerSecond(), micro.sequencesPerSecond(), 1e-9);
    }

    /**
     * RRA on one device: encode 1 U per request... here encode = 2 U for B_E = 2, decode 0.5 U per iteration,
     * every output 5 tokens, N_D = 2: each request lives ceil(5/2) = 3 phases, so B_D = 6, a phase is
     * 2 + 2 x 0.5 = 3 U for 2 completions, and a request waits 3 encodings and 5 iterations: 3 x 2 + 5 x 0.5 = 8.5 U.
     */
    @Test
    void rraPhaseArithmeticOnOneDevice() {
        Workload w = fixed(10, 5);
        CostModel cost = Profiles.linear(decoderOnly(1), 1, 2 * U / 20, U / 2, 0, 10);
        XSimulator sim = new XSimulator(new Scenario(cost, 1, 8, w, SimOptions.DEFAULTS));
        Estimate e = sim.estimate(Candidate.rra(1, 2, 2, 1, 0));
        assertEquals(6, e.decodeBatchSize());
        assertEquals(8.5 * U, e.latencyMs(), 1e-6);
        assertEquals(2 * 1000 / (3 * U), e.sequencesPerSecond(), 1e-9);
        // The event simulator, request by request, finds the same steady state.
        SimResult r = new EventSimulator(sim).run(Candidate.rra(1, 2, 2, 1, 0), 600, 1, new ArrivalProcess.Bulk());
        assertEquals(6, r.meanBatchAfterEncode(), 0.01);
        assertEquals(e.sequencesPerSecond(), r.sequencesPerSecond(), 0.01 * e.sequencesPerSecond());
        assertEquals(8.5 * U, r.boundLengthLatencyMs(), 1e-6);
    }

    /** STATIC: a batch of 4 is encoded (1 U) and decoded until its longest member is done (at most 3 x 1 U); no early exit. */
    @Test
    void staticBatchingRunsToTheMaximumLength() {
        Workload w = new Workload("mixed", "", "test", new TruncatedNormal(8, 1e-3, 8), new TruncatedNormal(2, 0.8, 3), 0, 3);
        CostModel cost = Profiles.linear(decoderOnly(1), 1, U / 32, U, 0, 8);
        XSimulator sim = new XSimulator(new Scenario(cost, 1, 8, w, SimOptions.DEFAULTS));
        Estimate e = sim.estimate(new Candidate(Policy.STATIC, 1, 4, 1, 0, 1, 0, 0));
        assertEquals(4 * U, e.latencyMs(), 1e-6);
        // Throughput: each batch lasts 1 U + (its longest output) x 1 U; E[max of 4] from the pmf, by hand.
        double[] p = w.output().pmf();
        double f1 = p[1], f2 = p[1] + p[2];
        double expectedMax = 1 + (1 - Math.pow(f1, 4)) + (1 - Math.pow(f2, 4));
        assertEquals(4 * 1000 / ((1 + expectedMax) * U), e.sequencesPerSecond(), 1e-9);
        SimResult r = new EventSimulator(sim).run(e.candidate(), 4000, 3, new ArrivalProcess.Bulk());
        assertEquals(e.sequencesPerSecond(), r.sequencesPerSecond(), 0.03 * e.sequencesPerSecond());
        assertTrue(r.p99ServiceMs() <= 4 * U + 1e-6, "no request outlives encode + 3 iterations: " + r.p99ServiceMs());
        // Every request leaves with its batch: the service time is the same for short and long outputs.
        assertEquals(r.p50ServiceMs(), r.p99ServiceMs(), U + 1e-6);
    }

    /** CONTINUOUS on one device: one prefill per iteration, so one completion per iteration and B_D = S_D. */
    @Test
    void continuousBatchingAdmitsOnePrefillPerIteration() {
        Workload w = fixed(8, 4);
        CostModel cost = Profiles.linear(decoderOnly(1), 1, 0, U, 0, 8);
        XSimulator sim = new XSimulator(new Scenario(cost, 1, 8, w, SimOptions.DEFAULTS));
        Estimate e = sim.estimate(new Candidate(Policy.CONTINUOUS, 1, 1, 1, 0, 1, 0, 0));
        assertEquals(4, e.decodeBatchSize());
        assertEquals(1000 / U, e.sequencesPerSecond(), 1e-6);
        SimResult r = new EventSimulator(sim).run(e.candidate(), 400, 3, new ArrivalProcess.Bulk());
        assertEquals(1000 / U, r.sequencesPerSecond(), 0.02 * 1000 / U);
        assertEquals(4, r.meanDecodeBatch(), 0.05);
    }
}
