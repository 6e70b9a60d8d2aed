package dev.exegpt.scheduler.cost;

import java.util.ArrayList;
import java.util.List;

/** What XProfiler measured for one model on one device kind: the model's shape and the cost points. */
public record ProfileTable(ModelSpec model, String deviceName, long deviceMemoryBytes, List<ProfilePoint> points) {
    public ProfileTable {
        points = List.copyOf(points);
    }

    /** The same table without the points of one operation (e.g. HEAD, to see what a cost adds to a prediction). */
    public ProfileTable without(ProfilePoint.Operation op) {
        return new ProfileTable(model, deviceName, deviceMemoryBytes,
                points.stream().filter(p -> p.operation() != op).toList());
    }

    /**
     * The table an analytic model predicts, on the profiler grid of PAPER.md §3 [choice]: batch 1..256, length
     * 16..2048, TP 1, 2, 4, 8; whole-layer entries.
     */
    public static ProfileTable tabulate(CostModel cost, String deviceName) {
        int[] batches = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
        int[] lengths = {16, 64, 128, 256, 512, 1024, 2048};
        List<ProfilePoint> pts = new ArrayList<>();
        for (int tp : new int[] {1, 2, 4, 8}) {
            for (int len : lengths) {
                for (int b : batches) {
                    pts.add(new ProfilePoint(Phase.ENCODE, ProfilePoint.Operation.LAYER, b, len, b * len, tp, 0,
                            cost.layerMs(Phase.ENCODE, b, len, tp)));
                    // An encoder-decoder DECODE point at len attends to len cached and len encoder tokens (XProfiler).
                    int keys = cost.model().encoderDecoder() ? 2 * len : len;
                    pts.add(new ProfilePoint(Phase.DECODE, ProfilePoint.Operation.LAYER, b, len, b, tp, 0,
                            cost.layerMs(Phase.DECODE, b, keys, tp)));
                }
            }
        }
        for (int b : batches) pts.add(new ProfilePoint(Phase.DECODE, ProfilePoint.Operation.HEAD, b, 0, b, 1, 0, cost.headMs(b, 1)));
        return new ProfileTable(cost.model(), deviceName, cost.deviceMemoryBytes(), pts);
    }
}
