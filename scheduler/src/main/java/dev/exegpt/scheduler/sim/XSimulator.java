package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.plan.Policy;

import dev.exegpt.scheduler.plan.Candidate;

import dev.exegpt.scheduler.cost.CostModel;
import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.Phase;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntToDoubleFunction;

/**
 * XSimulator (PAPER.md §6, §8): builds the steady-state timeline of a candidate from the length distributions and the
 * cost model and returns the throughput at saturation and the worst-case latency of the bound-length request.
 * Analytic and deterministic, so the search can call it hundreds of thousands of times; {@link EventSimulator}
 * checks it request by request.
 */
public final class XSimulator {
    private final Scenario sc;
    private final BaselineSimulator baselines;
    private final VllmSimulator vllm;
    /** Derived once: the search asks for them on every candidate. */
    private final int meanInputTokens;
    private final int meanDecodeContextTokens;
    private final double meanInputExact;
    private final double meanOutputTokens;
    /** One input length per slice of equal probability of the input distribution (see {@link #inputPoints}). */
    private final int[] inputPoints;
    private final Map<Integer, BatchComposition> compositions = new ConcurrentHashMap<>();

    public XSimulator(Scenario scenario) {
        this.sc = scenario;
        this.meanInputTokens = scenario.meanInputTokens();
        this.meanDecodeContextTokens = scenario.meanDecodeContextTokens();
        this.meanInputExact = scenario.workload().meanInputTokens();
        this.meanOutputTokens = scenario.workload().meanOutputTokens();
        this.inputPoints = inputPoints(scenario.workload().input().pmf(), INPUT_POINTS, meanInputTokens);
        this.baselines = new BaselineSimulator(this);
        this.vllm = new VllmSimulator(this);
    }

    int meanInputTokens() {
        return meanInputTokens;
    }

    /** Points of the input distribution that {@link #overInputs} averages over. */
    static final int INPUT_POINTS = 16;

    /**
     * {@code k} lengths, one per slice of probability 1/k of the distribution: the slice's mean length, rounded so that
     * they add up to k x {@code mean} (the mean the rest of the simulator uses). So an average over them is exact
     * for a cost linear in the length, and a convex cost sees the spread.
     */
    static int[] inputPoints(double[] pmf, int k, int mean) {
        double total = 0;
        for (double p : pmf) total += p;
        double[] sum = new double[k];
        double[] mass = new double[k];
        double cum = 0;
        for (int len = 1; len < pmf.length; len++) {
            double left = pmf[len] / total;
            while (left > 1e-15) {
                int slice = Math.min(k - 1, (int) Math.floor(cum * k + 1e-12));
                double room = slice == k - 1 ? left : Math.min(left, (slice + 1.0) / k - cum);
                if (room <= 1e-15) {            // at a slice boundary up to rounding: the next slice
                    cum = (slice + 1.0) / k;
                    continue;
                }
                sum[slice] += room * len;
                mass[slice] += room;
                cum += room;
                left -= room;
            }
        }
        int[] points = new int[k];
        double[] exact = new double[k];
        long have = 0;
        for (int i = 0; i < k; i++) {
            exact[i] = mass[i] > 0 ? sum[i] / mass[i] : mean;
            points[i] = Math.max(1, (int) Math.round(exact[i]));
            have += points[i];
        }
        // Spread the rounding residue one token at a time where rounding moved a point most.
        for (long diff = (long) k * mean - have; diff != 0; diff -= Long.signum(diff)) {
            int best = -1;
            for (int i = 0; i < k; i++) {
                if (diff < 0 && points[i] <= 1) continue;
                double gain = Long.signum(diff) * (exact[i] - points[i]);
                if (best < 0 || gain > Long.signum(diff) * (exact[best] - points[best])) best = i;
            }
            if (best < 0) break;
            points[best] += Long.signum(diff);
        }
        return points;
    }

    /**
     * The expectation of {@code encodeCost(L)} over the input length distribution, for the cost of an encode step of
     * a batch of prompts of random lengths. Pricing it at the mean length instead underestimates it (Jensen): the
     * cost is convex in the length (attention is quadratic, and on a CPU long prompts spill the caches; T5-small on
     * two cores: one layer over 1 x 256 tokens 9-15 ms, over 1 x 511 tokens 24-33 ms). A batch of mixed lengths is
     * priced as the average of batches of one length each, which is exact where the cost is linear in the batch's
     * tokens (the matmuls) and per sequence (attention over its own prompt).
     */
    double overInputs(IntToDoubleFunction encodeCost) {
        double sum = 0;
        for (int len : inputPoints) sum += encodeCost.applyAsDouble(len);
        return sum / inputPoints.length;
    }

    int meanDecodeContextTokens() {
        return meanDecodeContextTokens;
    }

    double meanInputExact() {
        return meanInputExact;
    }

    double meanOutputTokens() {
        return meanOutputTokens;
    }

    /** The batch composition for N_D decode iterations per encode, under the scenario's batch formula. */
    public BatchComposition composition(int decodeIterationsPerEncode) {
        return compositions.computeIfAbsent(decodeIterationsPerEncode,
                nd -> BatchComposition.of(sc.workload().output(), nd, sc.options().batchMode()));
    }

    public Scenario scenario() {
        return sc;
    }

    public Estimate estimate(Candidate c) {
        if (c.numDevices() != sc.numDevices()) {
            throw new IllegalArgumentException("candidate has %s devices, scenario %s".formatted(c.numDevices(), sc.numDevices()));
        }
        return switch (c.policy()) {
            case RRA -> rra(c);
            case WAA_C, WAA_M -> waa(c);
            case STATIC -> baselines.staticBatching(c);
            case CONTINUOUS -> baselines.continuous(c);
            case DISAGGREGATED -> baselines.disaggregated(c);
            case VLLM_V0 -> vllm.v0(c);
            case VLLM_V1 -> vllm.v1(c);
        };
    }

    long usableBytes() {
        return (long) (sc.cost().deviceMemoryBytes() * sc.options().usableMemoryFraction());
    }

    /** The RRA pipeline: every stage holds a slice of the encoder (prefill) and of the decoder layers (PAPER.md §4.1). */
    public Pipeline rraPipeline(Candidate c) {
        ModelSpec m = sc.model();
        return Pipeline.build(sc.cost(), c.numDevices(), c.tpDegree(), c.numTpDevices(), m.numPrefillLayers(),
                m.numDecoderLayers(), sc.devicesPerNode(), 0, meanDecodeContextTokens);
    }

    /**
     * RRA (PAPER.md §4.2, §4.5): encode B_E split into one micro-batch per stage, then N_D decode iterations of the
     * shrinking batch; the bound-length request pays ceil(S/N_D) encodings (its own and the stalls) and S iterations
     * at the largest batch.
     */
    private Estimate rra(Candidate c) {
        int bound = sc.workload().boundOutputTokens();
        Pipeline p = rraPipeline(c);
        if (p == null) return Estimate.infeasible(c, "more pipeline stages than layers", bound);
        int nd = c.decodeIterationsPerEncode();
        BatchComposition comp = composition(nd);
        int be = c.encodeBatchSize();
        int stages = p.stages().size();
        int ctx = meanDecodeContextTokens;
        double encMs = overInputs(len -> p.makespanMs(Phase.ENCODE, be, len, stages));
        double busy = overInputs(len -> p.deviceBusyMs(Phase.ENCODE, be, len, Math.max(1, (be + stages - 1) / stages)));
        double decodeMs = 0, firstIterMs = 0;
        for (int u = 1; u <= nd; u++) {
            int active = (int) Math.ceil(comp.activeAt(u, be));
            int mb = Math.max(1, (active + stages - 1) / stages);
            double it = p.decodeIterationMs(active, ctx, mb);
            if (u == 1) firstIterMs = it;
            decodeMs += it;
            busy += p.deviceBusyMs(Phase.DECODE, active, ctx, mb);
        }
        double cycleMs = encMs + decodeMs;
        double seqPerSec = be * 1000.0 / cycleMs;
        int phases = (bound + nd - 1) / nd;
        double latency = (phases * encMs + bound * firstIterMs) * (1 + sc.options().rraBufferFraction());
        int bd = (int) Math.ceil(be * comp.decodePerEncode());
        long mem = Memory.peakBytes(p, sc.model(), true, (double) bd * ctx);
        return finish(c, latency, seqPerSec, bd, 0, 0, encMs, firstIterMs, mem, busy / (c.numDevices() * cycleMs));
    }

    /**
     * WAA (PAPER.md §5): encoder and decoder groups run asynchronously; B_D = B_E x S_D (Little's law with one
     * encoder batch per iteration), corrected when the encoder period and the iteration differ (§8.4); the decode
     * batch is split into micro-batches of B_m; the bound-length request waits for its encoding, the KV hand-over
     * through host memory, at most one iteration to be merged, then its tokens.
     */
    private Estimate waa(Candidate c) {
        int bound = sc.workload().boundOutputTokens();
        int n = c.numDevices();
        if (n < 2) return Estimate.infeasible(c, "WAA needs at least two devices (one encoder, one decoder stage)", bound);
        ModelSpec m = sc.model();
        CostModel cost = sc.cost();
        int be = c.encodeBatchSize();
        int inTokens = meanInputTokens;
        int ctx = meanDecodeContextTokens;
        BatchComposition comp = composition(1);
        double bdPlanned = be * comp.decodePerEncode();
        Layout layout = layout(c);
        if (layout == null) return Estimate.infeasible(c, "more pipeline stages than layers", bound);
        Pipeline enc = layout.encoder(), dec = layout.decoder();
        int ne = enc.numDevices(), ndev = dec.numDevices();
        double encPeriodMs = overInputs(len -> enc.bottleneckMs(Phase.ENCODE, be, len));
        double encPassMs = overInputs(len -> enc.passMs(Phase.ENCODE, be, len));
        int bm = c.decodeMicroBatchSize();
        double bd = bdPlanned;
        double iterMs = dec.decodeIterationMs((int) Math.ceil(bd), ctx, bm);
        for (int k = 0; k < 20 && encPeriodMs > iterMs; k++) {
            // §8.4: unbalanced stages; the decode batch holds what arrives in S_D iterations.
            bd = bdPlanned * iterMs / encPeriodMs;
            iterMs = dec.decodeIterationMs((int) Math.ceil(bd), ctx, bm);
        }
        double periodMs = Math.max(encPeriodMs, iterMs);
        double seqPerSec = be * 1000.0 / periodMs;
        int bdInt = (int) Math.ceil(bd);
        // When the encoder is the slower side its batches arrive in bursts: right after a hand-over the decoder holds
        // what is left plus a whole new batch, and the bound-length request must survive iterations at that size.
        int bdPeak = (int) Math.ceil(Math.min(Math.max(bd, bdPlanned), bd + (bd < bdPlanned ? be : 0)));
        double peakIterMs = dec.decodeIterationMs(bdPeak, ctx, bm);
        int micro = dec.numMicroBatches(bdInt, bm);
        int mb = (bdInt + micro - 1) / micro;
        long kvBytes = (long) be * inTokens * m.numDecoderLayers() * m.kvBytesPerTokenPerLayer();
        double handoverMs = cost.stateTransferMs(kvBytes);
        double firstTokenMs = dec.passMs(Phase.DECODE, mb, ctx) + (micro - 1) * dec.bottleneckMs(Phase.DECODE, mb, ctx);
        double latency = (encPassMs + handoverMs + peakIterMs + firstTokenMs + (bound - 1) * peakIterMs)
                * (1 + sc.options().waaBufferFraction());
        long memEnc = Memory.peakBytes(enc, m, false, 0);
        long memDec = Memory.peakBytes(dec, m, false, (double) bdPeak * ctx);
        double busy = overInputs(len -> enc.deviceBusyMs(Phase.ENCODE, be, len, be))   // one encoder batch per period
                + dec.deviceBusyMs(Phase.DECODE, bdInt, ctx, bm) * periodMs / iterMs;
        return finish(c, latency, seqPerSec, bdInt, ne, ndev, encPeriodMs, iterMs, Math.max(memEnc, memDec),
                busy / (n * periodMs));
    }

    /**
     * The devices of a candidate as pipelines: one shared pipeline (RRA and the single-group baselines) or an
     * encoder and a decoder group (WAA, DISAGGREGATED). Under WAA, TP devices go to the decoder group first, then
     * to the encoder group [choice]. Null when a group would have more stages than layers.
     *
     * @param microBatch decoder micro-batch size; 0 = one micro-batch per pipeline stage
     */
    public record Layout(Pipeline encoder, Pipeline decoder, int microBatch) {
        public boolean split() {
            return encoder != decoder;
        }
    }

    public Layout layout(Candidate c) {
        return switch (c.policy()) {
            case RRA, VLLM_V0, VLLM_V1 -> {
                Pipeline p = rraPipeline(c);
                yield p == null ? null : new Layout(p, p, 0);
            }
            case STATIC, CONTINUOUS -> {
                Pipeline p = baselines.fullTpPipeline(c.numDevices());
                yield p == null ? null : new Layout(p, p, 0);
            }
            case DISAGGREGATED -> baselines.disaggregatedLayout(c);
            case WAA_C, WAA_M -> waaLayout(c);
        };
    }

    /** WAA: the devices split between an encoder and a decoder pipeline (§5.1), TP devices to the decoder first. */
    private Layout waaLayout(Candidate c) {
        ModelSpec m = sc.model();
        int n = c.numDevices();
        int be = c.encodeBatchSize();
        int inTokens = meanInputTokens;
        int ctx = meanDecodeContextTokens;
        BatchComposition comp = composition(1);
        int bdPlanned = (int) Math.ceil(be * comp.decodePerEncode());
        int ne = c.numEncoderDevices() > 0 ? c.numEncoderDevices() : encoderDevices(c.policy(), n, be, bdPlanned, inTokens, ctx);
        int ndev = n - ne;
        int d = c.tpDegree();
        int tpDec = Math.min(c.numTpDevices(), ndev / d * d);
        int tpEnc = Math.min(c.numTpDevices() - tpDec, ne / d * d);
        Pipeline enc = Pipeline.build(sc.cost(), ne, d, tpEnc, m.numPrefillLayers(), 0, sc.devicesPerNode(), 0, inTokens);
        Pipeline dec = Pipeline.build(sc.cost(), ndev, d, tpDec, 0, m.numDecoderLayers(), sc.devicesPerNode(), ne, ctx);
        return enc == null || dec == null ? null : new Layout(enc, dec, c.decodeMicroBatchSize());
    }

    /** WAA-C: devices in proportion to compute; WAA-M: to memory (PAPER.md §5.1); at least one device per group. */
    int encoderDevices(Policy policy, int n, int be, int bd, int inTokens, int ctx) {
        ModelSpec m = sc.model();
        double e, dd;
        if (policy == Policy.WAA_C) {
            e = m.numPrefillLayers() * sc.cost().layerMs(Phase.ENCODE, be, inTokens, 1);
            dd = m.numDecoderLayers() * sc.cost().layerMs(Phase.DECODE, bd, ctx, 1);
        } else {
            long prefillParams = m.encoderDecoder() ? m.paramsPerEncoderLayer() : m.paramsPerDecoderLayer();
            e = (double) m.numPrefillLayers() * prefillParams * ModelSpec.BYTES_PER_PARAM;
            dd = (double) m.numDecoderLayers() * (m.paramsPerDecoderLayer() * ModelSpec.BYTES_PER_PARAM
                    + (double) bd * ctx * m.kvBytesPerTokenPerLayer());
        }
        return (int) Math.max(1, Math.min(n - 1, Math.round(n * e / (e + dd))));
    }

    Estimate finish(Candidate c, double latencyMs, double seqPerSec, int bd, int ne, int ndev, double encMs,
                    double iterMs, long memBytes, double utilisation) {
        int bound = sc.workload().boundOutputTokens();
        if (memBytes > usableBytes()) {
            return new Estimate(c, false, Memory.describe(memBytes, usableBytes()), latencyMs, seqPerSec,
                    seqPerSec * meanOutputTokens, bd, bound, ne, ndev, encMs, iterMs, memBytes, utilisation);
        }
        return new Estimate(c, true, "", latencyMs, seqPerSec, seqPerSec * meanOutputTokens, bd, bound,
                ne, ndev, encMs, iterMs, memBytes, Math.min(1, utilisation));
    }
}
