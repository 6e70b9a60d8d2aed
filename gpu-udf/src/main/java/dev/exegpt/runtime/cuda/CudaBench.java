package dev.exegpt.runtime.cuda;

import dev.exegpt.runtime.bench.DecodeBench;
import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.weights.ModelSize;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The GPU benchmark of the bundle (gpu-udf/device/run.sh): matmul TFLOP/s of the f32 tiled kernel and of the f16
 * tensor-core kernel on square shapes (CUDA-event timed, median of repeats), then decode tokens/s at batch 1..64 for
 * the base models (OPT-125m, T5-base and a Llama of the same width, random weights) on the CUDA engine. torch_reference.py measures
 * PyTorch on the same shapes; run.sh sets the two side by side.
 *
 * <p>Usage: {@code CudaBench [--json FILE] [--sizes 1024,2048,4096] [--batches 1,2,4,8,16,32,64] [--context 128]
 * [--steps 16] [--models opt,t5,llama]}.
 */
public final class CudaBench {
    private CudaBench() {}

    /** One matmul measurement. */
    public record MatmulResult(String dtype, String kernel, int size, double medianMs, double tflopsPerSecond) {}

    /**
     * Times (n, n) @ (n, n)^T in f32 (the kernel the engine picks for the shape) or f16 (tensor cores): 3 warm-ups,
     * then the median of 10 event-timed launches.
     */
    public static MatmulResult matmul(Gpu dev, String dtype, int n) {
        String kernel = dtype.equals("f16") ? "matmul_f16" : LaunchGeometry.matmulKernel(n, n);
        SplittableRandom rnd = new SplittableRandom(42);
        float[] a = new float[n * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextDouble() - 0.5);
        long da = dev.alloc(4L * n * n);
        long dw = dev.alloc(4L * n * n);
        long dc = dev.alloc(4L * n * n);
        dev.copyIn(da, a, 0, a.length);
        dev.copyIn(dw, a, 0, a.length);
        long weights = dw;
        long half = 0;
        if (dtype.equals("f16")) {
            half = dev.alloc(2L * n * n);
            dev.launch("convert_f32_f16", LaunchGeometry.elementwise((long) n * n), half, dw, (long) n * n);
            weights = half;
        }
        LaunchGeometry g = dtype.equals("f16") ? LaunchGeometry.matmulWmma(n, n) : LaunchGeometry.matmulF32(n, n);
        for (int i = 0; i < 3; i++) dev.launch(kernel, g, dc, da, weights, 0L, n, n, n, n, 0);
        double[] ms = new double[10];
        for (int i = 0; i < ms.length; i++) {
            Object start = dev.mark();
            dev.launch(kernel, g, dc, da, weights, 0L, n, n, n, n, 0);
            Object end = dev.mark();
            ms[i] = dev.elapsedMs(start, end);
            dev.release(start);
            dev.release(end);
        }
        dev.free(da);
        dev.free(dw);
        dev.free(dc);
        if (half != 0) dev.free(half);
        Arrays.sort(ms);
        double median = ms[ms.length / 2];
        return new MatmulResult(dtype, kernel, n, median, 2.0 * n * n * n / (median * 1e9));
    }

    public static void main(String[] args) throws IOException {
        Path json = null;
        int[] sizes = {1024, 2048, 4096};
        int[] batches = {1, 2, 4, 8, 16, 32, 64};
        int context = 128;
        int steps = 16;
        List<String> models = List.of("opt", "t5", "llama");
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i]) {
                case "--json" -> json = Path.of(v);
                case "--sizes" -> sizes = ints(v);
                case "--batches" -> batches = ints(v);
                case "--context" -> context = Integer.parseInt(v);
                case "--steps" -> steps = Integer.parseInt(v);
                case "--models" -> models = List.of(v.split(","));
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; expected --json,"
                        + " --sizes, --batches, --context, --steps or --models");
            }
            i++;
        }
        PrintStream log = System.out;
        CudaProbe.Result probe = CudaProbe.probe();
        if (!probe.available()) {
            System.err.println("CudaBench: backend cuda: " + probe.reason());
            System.exit(2);
        }
        log.println("CudaBench on " + probe.reason());
        StringBuilder out = new StringBuilder("{\n  \"device\": \"" + probe.reason().replace("\"", "'") + "\",\n");
        out.append("  \"matmul\": [\n");
        List<String> rows = new ArrayList<>();
        try (CudaDevice dev = new CudaDevice(0)) {
            for (int n : sizes) {
                for (String dtype : List.of("f32", "f16")) {
                    MatmulResult r = matmul(dev, dtype, n);
                    log.printf(Locale.ROOT, "  matmul %s %-16s %5d^3: %8.3f ms  %7.2f TFLOP/s%n", dtype, r.kernel(), n,
                            r.medianMs(), r.tflopsPerSecond());
                    rows.add(String.format(Locale.ROOT, "    {\"dtype\": \"%s\", \"kernel\": \"%s\", \"size\": %d,"
                            + " \"ms\": %.4f, \"tflops\": %.3f}", dtype, r.kernel(), n, r.medianMs(), r.tflopsPerSecond()));
                }
            }
        }
        out.append(String.join(",\n", rows)).append("\n  ],\n  \"decode\": [\n");
        rows.clear();
        EngineConfig config = EngineConfig.DEFAULTS.withBackend(Backend.CUDA).withKvCacheCapacityBytes(16L << 30);
        for (String m : models) {
            Architecture arch = Architecture.parse(m);
            String name = m.toLowerCase(Locale.ROOT) + "-base";
            log.println("decode " + name + ", context " + context + " tokens, " + steps + " timed steps per batch size:");
            for (DecodeBench.Result r : DecodeBench.run(ModelSize.BASE.config(arch), name, 7, batches, context, steps,
                    config, log)) {
                rows.add(String.format(Locale.ROOT, "    {\"model\": \"%s\", \"batch\": %d, \"ms\": %.4f, \"best_ms\": %.4f,"
                        + " \"tokens_per_s\": %.2f}", name, r.batchSize(), r.msPerStep(), r.bestMsPerStep(), r.tokensPerSecond()));
            }
        }
        out.append(String.join(",\n", rows)).append("\n  ],\n");
        out.append(String.format(Locale.ROOT, "  \"context\": %d, \"steps\": %d\n}\n", context, steps));
        if (json != null) {
            Files.writeString(json, out.toString());
            log.println("wrote " + json);
        }
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    }
}
