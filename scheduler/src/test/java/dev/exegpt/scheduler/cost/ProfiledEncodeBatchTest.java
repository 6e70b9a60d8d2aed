package dev.exegpt.scheduler.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A batched encode is priced at most at its sequences one after another (ProfiledCostModel#layerMs). */
class ProfiledEncodeBatchTest {

    private static CostModel model(double fourBy256Ms) {
        ModelSpec m = new ModelSpec("m", true, 6, 6, 512, 8, 64, 2048, 50272, false);
        List<ProfilePoint> pts = new ArrayList<>();
        pts.add(new ProfilePoint(Phase.ENCODE, ProfilePoint.Operation.LAYER, 1, 256, 256, 1, 0, 10));
        pts.add(new ProfilePoint(Phase.ENCODE, ProfilePoint.Operation.LAYER, 4, 256, 1024, 1, 0, fourBy256Ms));
        pts.add(new ProfilePoint(Phase.ENCODE, ProfilePoint.Operation.LAYER, 16, 256, 4096, 1, 0, 120));
        pts.add(new ProfilePoint(Phase.DECODE, ProfilePoint.Operation.LAYER, 1, 256, 1, 1, 0, 1));
        return new ProfiledCostModel(new ProfileTable(m, "hand-made", 1L << 40, pts), DeviceSpec.A40);
    }

    @Test
    void aDisturbedBatchPointIsCappedAtTheSequencesOneByOne() {
        // 4 x 256 measured at 140 ms though one sequence takes 10: priced as 4 x 10.
        assertEquals(40, model(140).layerMs(Phase.ENCODE, 4, 256, 1), 1e-9);
        // Between 4 and 16 the line through the disturbed point would give 130 ms at 8; the cap gives 80.
        assertEquals(80, model(140).layerMs(Phase.ENCODE, 8, 256, 1), 1e-9);
    }

    @Test
    void batchingThatPaysIsKept() {
        // A device that gains from batching (4 x 256 in 25 ms, 16 in 120) keeps its interpolated price.
        assertEquals(25, model(25).layerMs(Phase.ENCODE, 4, 256, 1), 1e-9);
        assertEquals(25 + (120 - 25) * (2048 - 1024) / 3072.0, model(25).layerMs(Phase.ENCODE, 8, 256, 1), 1e-9);
        // One sequence is never capped.
        assertEquals(10, model(25).layerMs(Phase.ENCODE, 1, 256, 1), 1e-9);
    }
}
