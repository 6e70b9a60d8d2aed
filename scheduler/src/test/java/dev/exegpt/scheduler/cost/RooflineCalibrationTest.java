package dev.exegpt.scheduler.cost;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The analytic model against measured A100 data (vidur, derived into datasets/calibration/): one Llama-2-7B layer
 * without its attention kernel over token counts 1..4096 and TP 1..8, and NCCL all-reduce on one DGX node.
 */
class RooflineCalibrationTest {

    static List<double[]> table(String resource) throws Exception {
        List<double[]> rows = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                RooflineCalibrationTest.class.getResourceAsStream(resource), StandardCharsets.UTF_8))) {
            String line;
            boolean header = true;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("#")) continue;
                if (header) { header = false; continue; }
                String[] f = line.split(",");
                rows.add(new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])});
            }
        }
        return rows;
    }

    /** Mean and max |log(model / measured)| of the layer model, as relative errors. */
    static double[] layerError(Efficiency eff, List<double[]> rows) {
        ModelSpec llama = ModelSpecs.byName("llama2-7b");
        RooflineCostModel m = new RooflineCostModel(llama, DeviceSpec.A100_80GB, eff);
        double sum = 0, max = 0;
        for (double[] row : rows) {
            double model = m.nonAttentionMs(row[1], llama.paramsPerEncoderLayer(), (int) row[0]);
            double e = Math.abs(Math.log(model / row[2]));
            sum += e;
            max = Math.max(max, e);
        }
        return new double[] {Math.expm1(sum / rows.size()), Math.expm1(max)};
    }

    static double[] allReduceError(Efficiency eff, List<double[]> rows) {
        RooflineCostModel m = new RooflineCostModel(ModelSpecs.byName("llama2-7b"), DeviceSpec.A100_80GB, eff);
        double sum = 0, max = 0;
        for (double[] row : rows) {
            double e = Math.abs(Math.log(m.allReduceMs((long) row[1], (int) row[0]) / row[2]));
            sum += e;
            max = Math.max(max, e);
        }
        return new double[] {Math.expm1(sum / rows.size()), Math.expm1(max)};
    }

    @Test
    void calibratedLayerModelIsWithinTwentyPercentOnAverage() throws Exception {
        List<double[]> rows = table("/datasets/calibration/a100_llama2_7b_layer.csv");
        double[] e = layerError(Efficiency.CALIBRATED, rows);
        System.out.printf("roofline vs vidur A100 layer (%d points): mean |error| %.1f%%, max %.1f%%%n",
                rows.size(), 100 * e[0], 100 * e[1]);
        assertTrue(e[0] < 0.20, "mean layer error " + e[0]);
        // Refit: the shipped constants must be close to the best grid point, or they are stale.
        double best = Double.MAX_VALUE;
        String at = "";
        for (double g = 0.30; g <= 1.0; g += 0.05)
            for (double mem = 0.30; mem <= 1.0; mem += 0.05)
                for (double o = 0.0; o <= 0.3; o += 0.02) {
                    double v = layerError(Efficiency.CALIBRATED.with(g, mem, o), rows)[0];
                    if (v < best) { best = v; at = "gemm %.2f, memory %.2f, overhead %.2f ms".formatted(g, mem, o); }
                }
        System.out.printf("best grid fit: mean |error| %.1f%% at %s%n", 100 * best, at);
        assertTrue(e[0] <= best + 0.03, "shipped efficiency is stale: " + e[0] + " vs best " + best);
    }

    @Test
    void calibratedAllReduceIsWithinThirtyPercentOnAverage() throws Exception {
        List<double[]> rows = table("/datasets/calibration/a100_dgx_all_reduce.csv");
        double[] e = allReduceError(Efficiency.CALIBRATED, rows);
        System.out.printf("all-reduce vs vidur A100 DGX (%d points): mean |error| %.1f%%, max %.1f%%%n",
                rows.size(), 100 * e[0], 100 * e[1]);
        double best = Double.MAX_VALUE;
        String at = "";
        for (double lat = 0.005; lat <= 0.08; lat += 0.005)
            for (double f = 0.2; f <= 1.2; f += 0.05) {
                double v = allReduceError(Efficiency.CALIBRATED.withAllReduce(lat, f), rows)[0];
                if (v < best) { best = v; at = "%.3f ms, %.2f".formatted(lat, f); }
            }
        System.out.printf("best all-reduce fit: mean |error| %.1f%% at %s%n", 100 * best, at);
        assertTrue(e[0] < 0.30, "mean all-reduce error " + e[0]);
        assertTrue(e[0] <= best + 0.03, "shipped all-reduce constants are stale: " + e[0] + " vs " + best);
    }
}
