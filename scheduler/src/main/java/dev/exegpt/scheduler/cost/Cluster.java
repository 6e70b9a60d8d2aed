package dev.exegpt.scheduler.cost;

import static dev.exegpt.scheduler.Require.require;

/** numDevices devices of one kind, filled node by node (devicesPerNode per node). Parsed from {@code a40:4}. */
public record Cluster(DeviceSpec device, int numDevices) {
    public Cluster {
        require(numDevices >= 1, "numDevices must be >= 1, got %s", numDevices);
    }

    public static Cluster parse(String spec) {
        String[] parts = spec.trim().split(":");
        require(parts.length == 2, "hardware '%s': expected KIND:COUNT, e.g. a40:4", spec);
        int n;
        try {
            n = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("hardware '%s': COUNT must be an integer".formatted(spec));
        }
        return new Cluster(DeviceSpec.byName(parts[0]), n);
    }

    public int numNodes() {
        return (numDevices + device.devicesPerNode() - 1) / device.devicesPerNode();
    }

    @Override
    public String toString() {
        return device.name() + ":" + numDevices;
    }
}
