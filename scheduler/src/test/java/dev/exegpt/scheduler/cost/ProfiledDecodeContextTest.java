package dev.exegpt.scheduler.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An XProfiler DECODE point of an encoder-decoder model at seqLength L attends to 2L keys (L cached, L of encoder
 * output), while CostModel.layerMs counts the keys in all: so a T5 step of seqTokens keys reads the point at
 * seqTokens / 2; a decoder-only one at seqTokens. ProfileTable.tabulate writes the same convention.
 */
class ProfiledDecodeContextTest {

    private static ProfileTable table(boolean encoderDecoder) {
        ModelSpec m = new ModelSpec("m", encoderDecoder, encoderDecoder ? 6 : 0, 6, 512, 8, 64, 2048, 50272, false);
        List<ProfilePoint> pts = new ArrayList<>();
        for (int b : new int[] {1, 64}) {
            for (int len : new int[] {16, 256}) {
                pts.add(new ProfilePoint(Phase.ENCODE, ProfilePoint.Operation.LAYER, b, len, b * len, 1, 0, b * len * 0.01));
                pts.add(new ProfilePoint(Phase.DECODE, ProfilePoint.Operation.LAYER, b, len, b, 1, 0, 1 + 0.01 * b * len));
            }
        }
        return new ProfileTable(m, "hand-made", 1L << 40, pts);
    }

    @Test
    void encoderDecoderDecodeReadsHalfTheKeys() {
        CostModel t5 = new ProfiledCostModel(table(true), DeviceSpec.A40);
        CostModel opt = new ProfiledCostModel(table(false), DeviceSpec.A40);
        assertEquals(1 + 0.01 * 64 * 256, t5.layerMs(Phase.DECODE, 64, 512, 1), 1e-9);
        assertEquals(1 + 0.01 * 64 * 136, t5.layerMs(Phase.DECODE, 64, 272, 1), 1e-9);
        assertEquals(1 + 0.01 * 64 * 256, opt.layerMs(Phase.DECODE, 64, 256, 1), 1e-9);
        assertEquals(t5.layerMs(Phase.ENCODE, 1, 256, 1), opt.layerMs(Phase.ENCODE, 1, 256, 1), 1e-9);
    }

    @Test
    void tabulatedEncoderDecoderTableRoundTrips() {
        RooflineCostModel r = new RooflineCostModel(ModelSpecs.byName("t5-11b"), DeviceSpec.A100_80GB);
        CostModel back = new ProfiledCostModel(ProfileTable.tabulate(r, "a100"), DeviceSpec.A100_80GB);
        for (int keys : new int[] {128, 512, 2048}) {
            assertEquals(r.layerMs(Phase.DECODE, 32, keys, 1), back.layerMs(Phase.DECODE, 32, keys, 1), 1e-9, "keys " + keys);
        }
        assertEquals(r.headMs(32, 1), back.headMs(32, 1), 1e-9);
    }
}
