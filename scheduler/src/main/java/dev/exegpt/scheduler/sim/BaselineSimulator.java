package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.plan.Candidate;

import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.Phase;

/**
 * The baselines, timed on the same cost model, pipelines and latency definition as ExeGPT (PAPER.md §12.5, §17):
 * STATIC (FasterTransformer: fixed batch, no early termination, TP within a node and PP across nodes), CONTINUOUS
 * (Orca/vLLM iteration-level batching admitting one prefill per micro-batch per iteration), DISAGGREGATED
 * (DistServe-style prefill and decode devices, continuous batching on the decode side).
 */
final class BaselineSimulator {
    private final XSimulator x;
    private final Scenario sc;
    private final double[] outputPmf;

    BaselineSimulator(XSimulator x) {
        this.x = x;
        this.sc = x.scenario();
        this.outputPmf = sc.workload().output().pmf();
    }

    /** TP within a node, as the baselines do (PAPER.md §12.2): the largest power of two <= min(n, per node) dividing n. */
    static int intraNodeTp(int n, int devicesPerNode) {
        int d = 1;
        while (d * 2 <= Math.min(n, devicesPerNode) && n % (d * 2) == 0) d *= 2;
        return d;
    }

    private XSimulator x() {
        return x;
    }

    /**
     * STATIC: B requests are encoded together and decoded until the longest of them is done; the batch never
     * shrinks. Latency is reported at the task's maximum length, as the paper budgets FT (§2.2); throughput uses the
     * expected longest of B outputs.
     */
    Estimate staticBatching(Candidate c) {
        int maxOut = sc.workload().maxOutputTokens();
        Pipeline p = fullTpPipeline(c.numDevices());
        if (p == null) return Estimate.infeasible(c, "more pipeline stages than layers", maxOut);
        int b = c.encodeBatchSize();
        int stages = p.stages().size();
        int ctx = (int) Math.round(x.meanInputExact() + maxOut / 2.0);
        double encMs = x.overInputs(len -> p.makespanMs(Phase.ENCODE, b, len, stages));
        int mb = Math.max(1, (b + stages - 1) / stages);
        double iterMs = p.decodeIterationMs(b, ctx, mb);
        double latency = encMs + maxOut * iterMs;
        // Throughput: a batch runs until its longest member is done (no early termination), but its finished members
        // are not computed (the engine decodes the unfinished ones; they leave together at the end).
        double batchMs = encMs + expectedDecodeMs(b, ctx, p);
        double seqPerSec = b * 1000.0 / batchMs;
        long mem = Memory.peakBytes(p, sc.model(), true, (double) b * (sc.workload().input().max() + maxOut));
        double busy = x.overInputs(len -> p.deviceBusyMs(Phase.ENCODE, b, len, mb)) + expectedMaxOf(b) * p.deviceBusyMs(Phase.DECODE, b, ctx, mb);
        Estimate e = x().finish(c, latency, seqPerSec, b, 0, 0, encMs, iterMs, mem, busy / (c.numDevices() * batchMs));
        return withBound(e, maxOut);
    }

    /**
     * Expected decode time of a static batch of n: iteration k runs while any member is unfinished, with probability
     * 1 - F(k-1)^n, over the members still unfinished, n (1 - F(k-1)) of them on average, or that over the
     * probability when the batch is still running.
     */
    double expectedDecodeMs(int n, int ctx, Pipeline p) {
        double[] pmf = outputPmf;
        int stages = p.stages().size();
        double cdf = 0, ms = 0;
        for (int k = 1; k < pmf.length; k++) {
            double running = 1 - Math.pow(cdf, n);
            if (running < 1e-12) break;
            double active = Math.max(1, n * (1 - cdf) / running);
            int lo = (int) Math.floor(active), hi = (int) Math.ceil(active);
            double loMs = p.decodeIterationMs(lo, ctx, Math.max(1, (lo + stages - 1) / stages));
            double hiMs = hi == lo ? loMs : p.decodeIterationMs(hi, ctx, Math.max(1, (hi + stages - 1) / stages));
            ms += running * (loMs + (active - lo) * (hiMs - loMs));
            cdf += pmf[k];
        }
        return ms;
    }

    /** E[max of n output lengths] = sum_k (1 - F(k-1)^n). */
    double expectedMaxOf(int n) {
        double[] pmf = outputPmf;
        double cdf = 0, e = 0;
        for (int k = 1; k < pmf.length; k++) {
            e += 1 - Math.pow(cdf, n);
            cdf += pmf[k];
        }
        return e;
    }

    /** STATIC's latency for a request of {@code outputTokens} when the batch stops there (bound setting). */
    double staticLatencyMs(int numDevices, int batch, int outputTokens) {
        Pipeline p = fullTpPipeline(numDevices);
        int stages = p.stages().size();
        int ctx = (int) Math.round(x.meanInputExact() + outputTokens / 2.0);
        return x.overInputs(len -> p.makespanMs(Phase.ENCODE, batch, len, stages))
                + outputTokens * p.decodeIterationMs(batch, ctx, Math.max(1, (batch + stages - 1) / stages));
    }

    /**
     * CONTINUOUS: every iteration each micro-batch decodes its members and admits one new request's prefill
     * (the paper's ORCA emulation, §12.5); by Little's law the batch holds stages x S_D requests.
     */
    Estimate continuous(Candidate c) {
        int bound = sc.workload().boundOutputTokens();
        Pipeline p = fullTpPipeline(c.numDevices());
        if (p == null) return Estimate.infeasible(c, "more pipeline stages than layers", bound);
        int stages = p.stages().size();
        int ctx = x.meanDecodeContextTokens();
        int bd = (int) Math.ceil(stages * x.meanOutputTokens());
        int mb = Math.max(1, (bd + stages - 1) / stages);
        double pass = p.passMs(Phase.DECODE, mb, ctx) + x.overInputs(len -> p.passMs(Phase.ENCODE, 1, len));
        double bottleneck = p.bottleneckMs(Phase.DECODE, mb, ctx) + x.overInputs(len -> p.bottleneckMs(Phase.ENCODE, 1, len));
        double iterMs = Math.max(pass, stages * bottleneck);
        double seqPerSec = stages * 1000.0 / iterMs;
        double latency = bound * iterMs;
        long mem = Memory.peakBytes(p, sc.model(), true, (double) bd * ctx);
        double busy = p.deviceBusyMs(Phase.DECODE, bd, ctx, mb) + stages * x.overInputs(len -> p.deviceBusyMs(Phase.ENCODE, 1, len, 1));
        return x().finish(c, latency, seqPerSec, bd, 0, 0, pass, iterMs, mem, busy / (c.numDevices() * iterMs));
    }

    /**
     * DISAGGREGATED: numEncoderDevices prefill devices encode batches of B_E; the rest decode with iteration-level
     * batching, one micro-batch per pipeline stage; KV moves between the groups through host memory.
     */
    Estimate disaggregated(Candidate c) {
        int bound = sc.workload().boundOutputTokens();
        int n = c.numDevices();
        if (n < 2) return Estimate.infeasible(c, "disaggregation needs at least two devices", bound);
        ModelSpec m = sc.model();
        XSimulator.Layout layout = disaggregatedLayout(c);
        if (layout == null) return Estimate.infeasible(c, "more pipeline stages than layers", bound);
        Pipeline enc = layout.encoder(), dec = layout.decoder();
        int ne = enc.numDevices(), nd = dec.numDevices();
        int in = x.meanInputTokens();
        int ctx = x.meanDecodeContextTokens();
        int be = c.encodeBatchSize();
        int encStages = enc.stages().size(), decStages = dec.stages().size();
        double encPeriodMs = x.overInputs(len -> enc.bottleneckMs(Phase.ENCODE, Math.max(1, (be + encStages - 1) / encStages), len)) * encStages;
        double encPassMs = x.overInputs(len -> enc.makespanMs(Phase.ENCODE, be, len, encStages));
        double bdPlanned = be * x.meanOutputTokens();
        double bd = bdPlanned;
        double iterMs = dec.decodeIterationMs((int) Math.ceil(bd), ctx, (int) Math.ceil(bd / decStages));
        for (int k = 0; k < 20 && encPeriodMs > iterMs; k++) {
            bd = bdPlanned * iterMs / encPeriodMs;
            iterMs = dec.decodeIterationMs((int) Math.ceil(bd), ctx, (int) Math.ceil(bd / decStages));
        }
        double periodMs = Math.max(encPeriodMs, iterMs);
        double seqPerSec = be * 1000.0 / periodMs;
        long kvBytes = (long) be * in * m.numDecoderLayers() * m.kvBytesPerTokenPerLayer();
        // As under WAA: an encoder slower than the decoder delivers bursts of B_E (XSimulator#waa).
        int bdPeak = (int) Math.ceil(Math.min(Math.max(bd, bdPlanned), bd + (bd < bdPlanned ? be : 0)));
        double peakIterMs = dec.decodeIterationMs(bdPeak, ctx, (int) Math.ceil((double) bdPeak / decStages));
        double latency = encPassMs + sc.cost().stateTransferMs(kvBytes) + peakIterMs + bound * peakIterMs;
        long mem = Math.max(Memory.peakBytes(enc, m, false, 0), Memory.peakBytes(dec, m, false, (double) bdPeak * ctx));
        int bdInt = (int) Math.ceil(bd);
        double busy = x.overInputs(len -> enc.deviceBusyMs(Phase.ENCODE, be, len, Math.max(1, be / encStages)))
                + dec.deviceBusyMs(Phase.DECODE, bdInt, ctx, Math.max(1, bdInt / decStages)) * periodMs / iterMs;
        Candidate resolved = new Candidate(c.policy(), n, be, 1, 0, 1, 0, ne);
        return x().finish(resolved, latency, seqPerSec, bdInt, ne, nd, encPeriodMs, iterMs, mem, busy / (n * periodMs));
    }

    XSimulator.Layout disaggregatedLayout(Candidate c) {
        ModelSpec m = sc.model();
        int n = c.numDevices();
        int ne = c.numEncoderDevices() > 0 ? c.numEncoderDevices() : Math.max(1, n / 4);
        int nd = n - ne;
        int dp = intraNodeTp(ne, sc.devicesPerNode());
        int dd = intraNodeTp(nd, sc.devicesPerNode());
        Pipeline enc = Pipeline.build(sc.cost(), ne, dp, dp > 1 ? ne : 0, m.numPrefillLayers(), 0, sc.devicesPerNode(), 0,
                x.meanInputTokens());
        Pipeline dec = Pipeline.build(sc.cost(), nd, dd, dd > 1 ? nd : 0, 0, m.numDecoderLayers(), sc.devicesPerNode(), ne,
                x.meanDecodeContextTokens());
        return enc == null || dec == null ? null : new XSimulator.Layout(enc, dec, 0);
    }

    Pipeline fullTpPipeline(int n) {
        int d = intraNodeTp(n, sc.devicesPerNode());
        ModelSpec m = sc.model();
        return Pipeline.build(sc.cost(), n, d, d > 1 ? n : 0, m.numPrefillLayers(), m.numDecoderLayers(),
                sc.devicesPerNode(), 0, x.meanDecodeContextTokens());
    }

    private static Estimate withBound(Estimate e, int boundOutputTokens) {
        return new Estimate(e.candidate(), e.feasible(), e.infeasibleReason(), e.latencyMs(), e.sequencesPerSecond(),
                e.tokensPerSecond(), e.decodeBatchSize(), boundOutputTokens, e.numEncoderDevices(), e.numDecoderDevices(),
                e.encodeStageMs(), e.decodeIterationMs(), e.peakMemoryBytes(), e.utilisation());
    }
}
