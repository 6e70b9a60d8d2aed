package dev.exegpt.scheduler.cost;

import static dev.exegpt.scheduler.Require.require;

/**
 * Fractions of the data-sheet peaks a real kernel reaches, and fixed costs, fitted on the vidur A100 measurements
 * (datasets/calibration/, error reported by RooflineCalibrationTest).
 *
 * @param gemmCompute     fraction of peak FLOP/s that the projection and feed-forward GEMMs reach
 * @param attentionCompute fraction of peak FLOP/s of the attention kernels (FT's unfused attention: lower)
 * @param memory          fraction of peak memory bandwidth reached by weight, KV and activation traffic
 * @param layerOverheadMs kernel-launch and small-op time of one layer, independent of its size
 * @param allReduceLatencyMs fixed cost of one all-reduce
 * @param allReduceBandwidthFraction fraction of the link bandwidth a ring all-reduce reaches (bus bandwidth)
 */
public record Efficiency(double gemmCompute, double attentionCompute, double memory, double layerOverheadMs,
                         double allReduceLatencyMs, double allReduceBandwidthFraction) {
    public Efficiency {
        require(gemmCompute > 0 && gemmCompute <= 1, "gemmCompute must be in (0, 1], got %s", gemmCompute);
        require(attentionCompute > 0 && attentionCompute <= 1, "attentionCompute must be in (0, 1], got %s", attentionCompute);
        require(memory > 0 && memory <= 1, "memory must be in (0, 1], got %s", memory);
        require(layerOverheadMs >= 0, "layerOverheadMs must be >= 0, got %s", layerOverheadMs);
    }

    /** Fitted by RooflineCalibrationTest#fit on datasets/calibration/*.csv (A100); see scheduler/README.md. */
    public static final Efficiency CALIBRATED = new Efficiency(0.70, 0.35, 0.95, 0.06, 0.050, 0.60);

    public Efficiency with(double gemm, double mem, double overheadMs) {
        return new Efficiency(gemm, attentionCompute, mem, overheadMs, allReduceLatencyMs, allReduceBandwidthFraction);
    }

    public Efficiency withAllReduce(double latencyMs, double bandwidthFraction) {
        return new Efficiency(gemmCompute, attentionCompute, memory, layerOverheadMs, latencyMs, bandwidthFraction);
    }
}
