package dev.exegpt.scheduler.cost;

import java.util.List;

/** What XProfiler measured for one model on one device kind: the model's shape and the cost points. */
public record ProfileTable(ModelSpec model, String deviceName, long deviceMemoryBytes, List<ProfilePoint> points) {
    public ProfileTable {
        points = List.copyOf(points);
    }
}
