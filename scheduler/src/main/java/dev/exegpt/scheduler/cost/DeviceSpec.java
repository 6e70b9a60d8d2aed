package dev.exegpt.scheduler.cost;

import static dev.exegpt.scheduler.Require.require;

import java.util.List;
import java.util.Locale;

/**
 * A GPU kind as data (peaks from the vendors' data sheets; dense FP16 tensor throughput) and its interconnects
 * (PAPER.md §12.1 Table 2). Efficiency factors live in {@link Efficiency}; they were fitted on A100 data and are
 * applied to the other kinds as an assumption (scheduler/README.md).
 */
public record DeviceSpec(String name, double peakTflops, double memoryBandwidthGBps, long memoryBytes,
                         int devicesPerNode, double intraNodeLinkGBps, double interNodeLinkGBps,
                         double hostLinkGBps, double linkLatencyMs) {
    public DeviceSpec {
        require(peakTflops > 0 && memoryBandwidthGBps > 0, "peaks must be > 0, got %s TFLOP/s, %s GB/s",
                peakTflops, memoryBandwidthGBps);
        require(devicesPerNode >= 1, "devicesPerNode must be >= 1, got %s", devicesPerNode);
    }

    private static final long GB = 1_000_000_000L;

    /** A100 80GB SXM: 312 TFLOP/s, 2039 GB/s; NVLink 3 (300 GB/s per direction); 8 x 200 Gb/s HDR InfiniBand per VM. */
    public static final DeviceSpec A100_80GB = new DeviceSpec("a100", 312, 2039, 80 * GB, 8, 300, 200, 25, 0.010);
    /** A40 48GB: 149.7 TFLOP/s, 696 GB/s; PCIe 4.0 x16 (32 GB/s) between GPUs; 100 Gb/s InfiniBand between nodes. */
    public static final DeviceSpec A40 = new DeviceSpec("a40", 149.7, 696, 48 * GB, 8, 32, 12.5, 25, 0.015);
    /** H100 80GB SXM: 989 TFLOP/s, 3350 GB/s; NVLink 4 (450 GB/s per direction); 400 Gb/s per GPU InfiniBand (assumed). */
    public static final DeviceSpec H100 = new DeviceSpec("h100", 989, 3350, 80 * GB, 8, 450, 400, 50, 0.008);

    public static List<DeviceSpec> all() {
        return List.of(A100_80GB, A40, H100);
    }

    public static DeviceSpec byName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (DeviceSpec d : all()) {
            if (d.name().equals(n) || (n.equals("a100-80gb") && d == A100_80GB)) return d;
        }
        throw new IllegalArgumentException("unknown device '%s': expected one of a100, a40, h100".formatted(name));
    }

    /**
     * The device whose links a profile's cost model falls back to: the one a profile's device name mentions (e.g.
     * "a40 ..."), A100 otherwise (a CPU profile measures its own links).
     */
    public static DeviceSpec forDeviceName(String deviceName) {
        String d = deviceName == null ? "" : deviceName.toLowerCase(Locale.ROOT);
        for (DeviceSpec s : all()) if (d.contains(s.name())) return s;
        return A100_80GB;
    }
}
