package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.plan.Candidate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.scheduler.cost.CostModel;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.cost.ProfilePoint;
import dev.exegpt.scheduler.cost.ProfilePoint.Operation;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.workload.Workloads;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The model head (LM head, argmax) is paid once per decode micro-batch and once per decoder-only prefill, exactly as
 * profiled: a hand-made table with and without a known HEAD curve must differ by that curve and nothing else.
 */
class HeadCostTest {
    private static final ModelSpec T5 = new ModelSpec("t5-test", true, 6, 6, 512, 8, 64, 2048, 50272, false);
    private static final ModelSpec OPT = new ModelSpec("opt-test", false, 0, 6, 512, 8, 64, 2048, 50272, false);

    /** Head: 2 ms + 0.1 ms per row, profiled at 1, 8 and 64 rows (so interpolation is exact in between). */
    private static double head(int rows) {
        return 2.0 + 0.1 * rows;
    }

    private static ProfileTable table(ModelSpec m) {
        List<ProfilePoint> pts = new ArrayList<>();
        for (int tokens = 1; tokens <= 1 << 16; tokens *= 2) {
            pts.add(new ProfilePoint(Phase.ENCODE, Operation.LAYER, Math.max(1, tokens / 64), 64, tokens, 1, 0, 0.01 * tokens));
        }
        for (int b = 1; b <= 1024; b *= 2) pts.add(new ProfilePoint(Phase.DECODE, Operation.LAYER, b, 64, b, 1, 0, 1.0 + 0.05 * b));
        for (int rows : new int[] {1, 8, 64}) pts.add(new ProfilePoint(Phase.DECODE, Operation.HEAD, rows, 0, rows, 1, 0, head(rows)));
        pts.add(new ProfilePoint(Phase.DECODE, Operation.PIPELINE_SEND, 0, 0, 0, 1, 1, 0));
        pts.add(new ProfilePoint(Phase.DECODE, Operation.PIPELINE_SEND, 0, 0, 0, 1, 1L << 40, 0));
        return new ProfileTable(m, "hand-made", 1L << 40, pts);
    }

    @Test
    void profiledHeadIsLookedUpAndAbsentWithoutEntries() {
        ProfiledCostModel with = new ProfiledCostModel(table(T5), DeviceSpec.A40);
        ProfiledCostModel without = new ProfiledCostModel(table(T5).without(Operation.HEAD), DeviceSpec.A40);
        assertTrue(with.hasHead());
        assertFalse(without.hasHead());
        for (int rows : new int[] {1, 3, 8, 20, 64}) {
            assertEquals(head(rows), with.headMs(rows, 1), 1e-9, "rows " + rows);
            assertEquals(head(rows), with.headMs(rows, 2), 1e-9, "the engine does not shard the head");
            assertEquals(0, without.headMs(rows, 1));
        }
        assertEquals(head(100), with.headMs(100, 1), 1e-9, "last segment extended above the grid");
        assertEquals(0, with.headMs(0, 1));
    }

    @Test
    void decodeIterationGainsExactlyTheHeadOncePerMicroBatch() {
        CostModel with = new ProfiledCostModel(table(T5), DeviceSpec.A40);
        CostModel without = new ProfiledCostModel(table(T5).without(Operation.HEAD), DeviceSpec.A40);
        Pipeline one = Pipeline.build(with, 1, 1, 0, 6, 6, 8, 0, 64);
        Pipeline oneBare = Pipeline.build(without, 1, 1, 0, 6, 6, 8, 0, 64);
        for (int b : new int[] {1, 2, 5, 8, 33}) {
            assertEquals(oneBare.decodeIterationMs(b, 64, b) + head(b), one.decodeIterationMs(b, 64, b), 1e-9, "batch " + b);
        }
        // T5's encoder pays no head.
        assertEquals(oneBare.passMs(Phase.ENCODE, 4, 64), one.passMs(Phase.ENCODE, 4, 64), 1e-9);
        // Two stages, 16 sequences in two micro-batches of 8: the iteration is 2 x (bottleneck stage + head of 8 rows).
        Pipeline two = Pipeline.build(with, 2, 1, 0, 6, 6, 8, 0, 64);
        Pipeline twoBare = Pipeline.build(without, 2, 1, 0, 6, 6, 8, 0, 64);
        assertEquals(twoBare.decodeIterationMs(16, 64, 8) + 2 * head(8), two.decodeIterationMs(16, 64, 8), 1e-9);
        assertEquals(twoBare.passMs(Phase.DECODE, 8, 64) + head(8), two.passMs(Phase.DECODE, 8, 64), 1e-9);
    }

    @Test
    void decoderOnlyPrefillPaysOneRowPerSequence() {
        Pipeline p = Pipeline.build(new ProfiledCostModel(table(OPT), DeviceSpec.A40), 1, 1, 0, 6, 6, 8, 0, 64);
        Pipeline bare = Pipeline.build(new ProfiledCostModel(table(OPT).without(Operation.HEAD), DeviceSpec.A40), 1, 1, 0, 6, 6, 8, 0, 64);
        assertEquals(bare.passMs(Phase.ENCODE, 4, 64) + head(4), p.passMs(Phase.ENCODE, 4, 64), 1e-9);
        assertEquals(bare.makespanMs(Phase.ENCODE, 4, 64, 1) + head(4), p.makespanMs(Phase.ENCODE, 4, 64, 1), 1e-9);
    }

    @Test
    void simulatorsPredictLessThroughputWithTheHead() {
        Scenario with = new Scenario(new ProfiledCostModel(table(T5), DeviceSpec.A40), 1, 1, Workloads.byName("S"), SimOptions.DEFAULTS);
        Scenario without = new Scenario(new ProfiledCostModel(table(T5).without(Operation.HEAD), DeviceSpec.A40), 1, 1,
                Workloads.byName("S"), SimOptions.DEFAULTS);
        Candidate c = Candidate.rra(1, 4, 8, 1, 0);
        Estimate a = new XSimulator(with).estimate(c);
        Estimate b = new XSimulator(without).estimate(c);
        assertTrue(a.sequencesPerSecond() < b.sequencesPerSecond(), a + " vs " + b);
        assertEquals(b.encodeStageMs(), a.encodeStageMs(), 1e-9, "T5's encode pays no head");
        assertTrue(a.decodeIterationMs() - b.decodeIterationMs() >= head(1) - 1e-9);
    }

    @Test
    void rooflineHeadIsTheLmHeadGemmAndShrinksWithTp() {
        RooflineCostModel r = new RooflineCostModel(ModelSpecs.byName("opt-13b"), DeviceSpec.A100_80GB);
        ModelSpec m = r.model();
        double weightMs = (double) m.vocabSize() * m.hiddenSize() * ModelSpec.BYTES_PER_PARAM / (2039 * 1e6 * 0.95);
        assertTrue(r.headMs(1, 1) > weightMs && r.headMs(1, 1) < weightMs * 1.2 + 0.1, "memory-bound at one row: " + r.headMs(1, 1));
        assertTrue(r.headMs(1, 2) < r.headMs(1, 1));
        // For the paper's large models the head is small beside the layers: under 3% of OPT-13B's 40 layers at batch 32.
        assertTrue(r.headMs(32, 1) < 0.03 * 40 * r.layerMs(Phase.DECODE, 32, 512, 1));
    }
}
