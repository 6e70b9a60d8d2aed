package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.cost.CostModel;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.cost.ProfilePoint;
import dev.exegpt.scheduler.cost.ProfilePoint.Operation;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import java.util.ArrayList;
import java.util.List;

/** Hand-made XProfiler tables for tests whose answers can be checked by hand. */
final class Profiles {
    private Profiles() {}

    /**
     * A profile whose encode layer time is linear in the token count, encodeMsPerToken per token, and whose decode
     * layer time is decodeMsPerSequence x batch + decodeFixedMs; communication is free.
     */
    static CostModel linear(ModelSpec model, int tpDegree, double encodeMsPerToken, double decodeFixedMs,
                            double decodeMsPerSequence, int seqLength) {
        List<ProfilePoint> pts = new ArrayList<>();
        for (int tokens = 1; tokens <= 1 << 20; tokens *= 2) {
            pts.add(new ProfilePoint(Phase.ENCODE, Operation.LAYER, Math.max(1, tokens / seqLength), seqLength, tokens,
                    tpDegree, 0, encodeMsPerToken * tokens));
        }
        for (int b = 1; b <= 1 << 14; b *= 2) {
            pts.add(new ProfilePoint(Phase.DECODE, Operation.LAYER, b, seqLength, b, tpDegree, 0,
                    decodeFixedMs + decodeMsPerSequence * b));
        }
        pts.add(new ProfilePoint(Phase.DECODE, Operation.PIPELINE_SEND, 0, 0, 0, 1, 1, 0));
        pts.add(new ProfilePoint(Phase.DECODE, Operation.PIPELINE_SEND, 0, 0, 0, 1, 1L << 40, 0));
        pts.add(new ProfilePoint(Phase.DECODE, Operation.STATE_TRANSFER, 0, 0, 0, 1, 1, 0));
        pts.add(new ProfilePoint(Phase.DECODE, Operation.STATE_TRANSFER, 0, 0, 0, 1, 1L << 40, 0));
        return new ProfiledCostModel(new ProfileTable(model, "hand-made", 1L << 40, pts), DeviceSpec.A40);
    }
}
