package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.cost.CostModel;
import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.Phase;
import java.util.ArrayList;
import java.util.List;

/**
 * A chain of stages and the timing mechanism over it (no policy here). A micro-batch passes every stage in turn
 * ({@link #passMs}); with several micro-batches in flight a new one leaves every {@link #bottleneckMs} (the slowest
 * stage), so M micro-batches take pass + (M - 1) x bottleneck (PAPER.md §5.3, Figure 4). The model head (LM head and
 * argmax) runs once per micro-batch after the last stage of a decode pass, and after the last stage of a decoder-only
 * prefill (one row per sequence); it counts as part of that last stage.
 */
public final class Pipeline {
    private final CostModel cost;

    /** The cost model the pipeline's stages are priced by. */
    public CostModel cost() {
        return cost;
    }
    private final List<Stage> stages;

    /** Distinct stages (tpDegree, layers) and how many there are: identical stages are timed once. */
    private final List<Stage> kinds = new ArrayList<>();
    private final List<Integer> kindCounts = new ArrayList<>();
    private final int numCrossNodeSends;

    public Pipeline(CostModel cost, List<Stage> stages) {
        this.cost = cost;
        this.stages = List.copyOf(stages);
        int cross = 0;
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            if (i < stages.size() - 1 && s.crossNodeAfter()) cross++;
            Stage key = new Stage(s.tpDegree(), s.numPrefillLayers(), s.numDecodeLayers(), false);
            int at = kinds.indexOf(key);
            if (at < 0) {
                kinds.add(key);
                kindCounts.add(1);
            } else {
                kindCounts.set(at, kindCounts.get(at) + 1);
            }
        }
        numCrossNodeSends = cross;
    }

    public List<Stage> stages() {
        return stages;
    }

    public int numStages(Phase phase) {
        int n = 0;
        for (Stage s : stages) if (layers(s, phase) > 0) n++;
        return n;
    }

    public int numDevices() {
        return stages.stream().mapToInt(Stage::tpDegree).sum();
    }

    private static int layers(Stage s, Phase phase) {
        return phase == Phase.ENCODE ? s.numPrefillLayers() : s.numDecodeLayers();
    }

    /** One stage's compute for a micro-batch of {@code batch} sequences. */
    public double stageMs(Stage s, Phase phase, int batch, int seqTokens) {
        int l = layers(s, phase);
        return l == 0 || batch == 0 ? 0 : l * cost.layerMs(phase, batch, seqTokens, s.tpDegree());
    }

    /** The last stage holding layers of the phase (the one that runs the model head after it); null if none. */
    private Stage lastStage(Phase phase) {
        for (int i = stages.size() - 1; i >= 0; i--) if (layers(stages.get(i), phase) > 0) return stages.get(i);
        return null;
    }

    /**
     * The model head of one micro-batch of {@code batch} sequences: one row each, after a decode pass or after a
     * decoder-only prefill (its first token); none after an encoder, nor in a pipeline without layers of the phase.
     */
    public double headMs(Phase phase, int batch) {
        Stage last = lastStage(phase);
        if (batch <= 0 || last == null || (phase == Phase.ENCODE && cost.model().encoderDecoder())) return 0;
        return cost.headMs(batch, last.tpDegree());
    }

    private double sendMs(boolean crossNode, Phase phase, int batch, int seqTokens) {
        long tokens = phase == Phase.ENCODE ? (long) batch * seqTokens : batch;
        return cost.pipelineSendMs(tokens * cost.model().hiddenSize() * ModelSpec.BYTES_PER_PARAM, crossNode);
    }

    /** Time for one micro-batch to cross every stage that holds layers of the phase, hand-offs included. */
    public double passMs(Phase phase, int batch, int seqTokens) {
        double ms = 0;
        for (int i = 0; i < kinds.size(); i++) ms += kindCounts.get(i) * stageMs(kinds.get(i), phase, batch, seqTokens);
        ms += headMs(phase, batch);
        int sends = numStages(phase) - 1;
        if (sends > 0) {
            int cross = Math.min(sends, numCrossNodeSends);
            ms += (sends - cross) * sendMs(false, phase, batch, seqTokens) + cross * sendMs(true, phase, batch, seqTokens);
        }
        return ms;
    }

    public double bottleneckMs(Phase phase, int batch, int seqTokens) {
        double max = 0;
        for (Stage s : kinds) max = Math.max(max, stageMs(s, phase, batch, seqTokens));
        Stage last = lastStage(phase);
        if (last != null) max = Math.max(max, stageMs(last, phase, batch, seqTokens) + headMs(phase, batch));
        return max;
    }

    /** Device-milliseconds of compute for {@code batch} sequences in micro-batches of mb (utilisation). */
    public double deviceBusyMs(Phase phase, int batch, int seqTokens, int mb) {
        if (batch <= 0) return 0;
        int m = phase == Phase.DECODE ? numMicroBatches(batch, mb) : (batch + Math.max(1, mb) - 1) / Math.max(1, mb);
        int size = (batch + m - 1) / m;
        double ms = 0;
        for (int i = 0; i < kinds.size(); i++) {
            ms += kindCounts.get(i) * kinds.get(i).tpDegree() * stageMs(kinds.get(i), phase, size, seqTokens);
        }
        Stage last = lastStage(phase);
        if (last != null) ms += last.tpDegree() * headMs(phase, size);
        return m * ms;
    }

    /** {@code batch} sequences split into {@code numMicroBatches} micro-batches, from first entry to last exit. */
    public double makespanMs(Phase phase, int batch, int seqTokens, int numMicroBatches) {
        int m = Math.max(1, Math.min(numMicroBatches, batch));
        int mb = (batch + m - 1) / m;
        return passMs(phase, mb, seqTokens) + (m - 1) * bottleneckMs(phase, mb, seqTokens);
    }

    /**
     * One decode iteration of {@code batch} sequences split into micro-batches of at most {@code microBatch}: every
     * micro-batch gets one token; a micro-batch cannot start its next token before its previous one left the last
     * stage, so the iteration lasts max(pass, M x bottleneck).
     */
    public double decodeIterationMs(int batch, int contextTokens, int microBatch) {
        if (batch <= 0) return 0;
        int m = numMicroBatches(batch, microBatch);
        int mb = (batch + m - 1) / m;
        return Math.max(passMs(Phase.DECODE, mb, contextTokens), m * bottleneckMs(Phase.DECODE, mb, contextTokens));
    }

    /**
     * Micro-batches a decode batch is split into: batch / microBatch, but never more than the decode stages, since
     * with the pipeline full a further split only re-reads the weights [choice]; microBatch 0 = no split.
     */
    public int numMicroBatches(int batch, int microBatch) {
        if (microBatch <= 0 || batch <= 0) return 1;
        return Math.max(1, Math.min(numStages(Phase.DECODE), (batch + microBatch - 1) / microBatch));
    }

    /**
     * Builds stages for devices filled node by node: the first numTpDevices / tpDegree stages are tensor-parallel
     * groups, the rest single devices (PAPER.md §6 [choice]); layers are split in proportion to each stage's speed
     * so that the stages are balanced. Returns null when there are more stages than layers.
     */
    public static Pipeline build(CostModel cost, int numDevices, int tpDegree, int numTpDevices, int numPrefillLayers,
                                 int numDecodeLayers, int devicesPerNode, int firstDeviceIndex, int refSeqTokens) {
        int numTpStages = tpDegree > 1 ? numTpDevices / tpDegree : 0;
        int numSingle = numDevices - numTpStages * tpDegree;
        int numStages = numTpStages + numSingle;
        if (numStages > Math.max(numPrefillLayers, numDecodeLayers)) return null;
        double tpSpeed = tpDegree > 1
                ? cost.layerMs(Phase.DECODE, 32, refSeqTokens, 1) / cost.layerMs(Phase.DECODE, 32, refSeqTokens, tpDegree) : 1;
        double[] speed = new double[numStages];
        for (int i = 0; i < numStages; i++) speed[i] = i < numTpStages ? tpSpeed : 1;
        int[] pre = split(numPrefillLayers, speed);
        int[] dec = split(numDecodeLayers, speed);
        List<Stage> stages = new ArrayList<>();
        int device = firstDeviceIndex;
        for (int i = 0; i < numStages; i++) {
            int width = i < numTpStages ? tpDegree : 1;
            int next = device + width;
            boolean cross = i < numStages - 1 && (next - 1) / devicesPerNode != next / devicesPerNode;
            if (pre[i] + dec[i] == 0) return null;
            stages.add(new Stage(width, pre[i], dec[i], cross));
            device = next;
        }
        return new Pipeline(cost, stages);
    }

    /** Largest-remainder split of n layers in proportion to speed, at least one each when n allows. */
    static int[] split(int n, double[] speed) {
        int k = speed.length;
        int[] out = new int[k];
        if (n == 0) return out;
        double total = 0;
        for (double s : speed) total += s;
        int given = 0;
        double[] rem = new double[k];
        for (int i = 0; i < k; i++) {
            double exact = n * speed[i] / total;
            out[i] = Math.max(n >= k ? 1 : 0, (int) Math.floor(exact));
            rem[i] = exact - out[i];
            given += out[i];
        }
        while (given < n) {
            int best = 0;
            for (int i = 1; i < k; i++) if (rem[i] > rem[best]) best = i;
            out[best]++;
            rem[best] -= 1;
            given++;
        }
        while (given > n) {
            int worst = -1;
            for (int i = 0; i < k; i++) if (out[i] > 1 && (worst < 0 || rem[i] < rem[worst])) worst = i;
            out[worst]--;
            rem[worst] += 1;
            given--;
        }
        return out;
    }
}
