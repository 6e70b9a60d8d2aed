package dev.exegpt.job.cli;

import dev.exegpt.job.bench.BenchLayouts;

import dev.exegpt.runtime.bench.DecodeBench;
import dev.exegpt.runtime.bench.MatmulBench;
import dev.exegpt.runtime.bench.PeakProbe;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.kernel.VectorKernels;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.weights.DType;
import dev.exegpt.runtime.weights.ModelSize;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import jdk.incubator.vector.FloatVector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code exegpt bench-kernels}: in one run, the machine's ceilings (FMA loop, memory triad), matmul GFLOP/s at 1
 * and 2 threads, and decode tokens/s per batch size with the ratio to batch 1. Figures on a shared machine are
 * noisy: compare ratios within one run.
 */
@Command(name = "bench-kernels", mixinStandardHelpOptions = true,
        description = "Benchmark the CPU kernels and the decode step (ratios within one run).")
public final class BenchKernelsCommand implements Callable<Integer> {
    @Option(names = "--matmul-size", defaultValue = "1024", description = "n of the n x n x n f32 matmul. Default: ${DEFAULT-VALUE}.")
    int matmulSize;

    @Option(names = "--arch", defaultValue = "opt", split = ",", description = "Architectures to decode: opt, t5, llama. Default: ${DEFAULT-VALUE}.")
    List<String> archs = new ArrayList<>();

    @Option(names = "--sizes", defaultValue = "small,base", split = ",", description = "Model sizes to decode. Default: ${DEFAULT-VALUE}.")
    List<String> sizes = new ArrayList<>();

    @Option(names = "--batches", defaultValue = "1,8,32,64", split = ",", description = "Decode batch sizes. Default: ${DEFAULT-VALUE}.")
    List<Integer> batches = new ArrayList<>();

    @Option(names = "--context", defaultValue = "16", description = "Prompt tokens per sequence before decoding. Default: ${DEFAULT-VALUE}.")
    int context;

    @Option(names = "--steps", defaultValue = "7", description = "Timed decode iterations per batch (median kept). Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--dtypes", defaultValue = "f32,bf16", split = ",", converter = DTypeConverter.class,
            description = "Weight types to decode each model in (f32, bf16, f16); the first is the baseline of the speed-up line. Default: ${DEFAULT-VALUE}.")
    List<DType> dtypes = new ArrayList<>();

    @Option(names = "--skip-decode", description = "Only the probes and the matmul.")
    boolean skipDecode;

    @Option(names = "--layouts-batch", defaultValue = "32", description = "Batch of the layout comparison (0: skip it). Default: ${DEFAULT-VALUE}.")
    int layoutsBatch;

    @Override
    public Integer call() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf("machine: %d cores, Vector API %d-bit, load average %.2f at start%n", cores,
                FloatVector.SPECIES_PREFERRED.vectorBitSize(), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        double fma1 = PeakProbe.fmaGflops(1);
        double fma2 = PeakProbe.fmaGflops(2);
        double triad1 = PeakProbe.triadGbPerSecond(1);
        double triad2 = PeakProbe.triadGbPerSecond(2);
        System.out.printf("peak probes: FMA register loop %.1f GFLOP/s (1 thread), %.1f (2 threads); memory triad %.1f GB/s (1 thread), %.1f (2 threads)%n",
                fma1, fma2, triad1, triad2);
        double[] mm = new double[2];
        for (int threads = 1; threads <= 2; threads++) {
            try (VectorKernels k = new VectorKernels(threads)) {
                MatmulBench.Result r = MatmulBench.run(k, matmulSize, 5, 11);
                mm[threads - 1] = r.gflopsPerSecond();
                System.out.printf("matmul %d^3 f32, %d thread%s: %.1f ms, %.1f GFLOP/s (%.0f%% of the FMA loop)%n",
                        matmulSize, threads, threads == 1 ? "" : "s", r.medianMs(), r.gflopsPerSecond(),
                        100 * r.gflopsPerSecond() / (threads == 1 ? fma1 : fma2));
            }
        }
        System.out.printf("matmul scaling 2 threads / 1 thread: %.2fx%n", mm[1] / mm[0]);
        if (skipDecode) return 0;
        int[] batchSizes = batches.stream().mapToInt(Integer::intValue).toArray();
        // The memory system's rate drifts on a shared machine (39-88 GB/s within minutes here): each decode is held
        // against the triad sampled between its own timed steps, and a plain read sampled at the same points (the
        // access a decode step makes to its weights), as well as against the triad at the start.
        try (PeakProbe.Stream triad = PeakProbe.Stream.triad(2); PeakProbe.Stream read = PeakProbe.Stream.read(2)) {
            for (String a : archs) {
                for (String s : sizes) {
                    decode(Architecture.parse(a), ModelSize.parse(s), batchSizes, triad, read, triad2, mm[1], fma2);
                }
            }
        }
        if (layoutsBatch > 0) BenchLayouts.run(archs.get(0), sizes.get(0), layoutsBatch, context, steps);
        return 0;
    }

    private void decode(Architecture arch, ModelSize size, int[] batchSizes, PeakProbe.Stream triad, PeakProbe.Stream read,
                        double triadAtStart, double matmul2, double fma2) {
        ModelConfig c = size.config(arch);
        String name = arch.name().toLowerCase() + "-" + size.name().toLowerCase();
        System.out.printf("decode %s (%,d weights read per step, %d prompt tokens, %d threads):%n", name,
                DecodeBench.decodeWeightsPerStep(c), context, Runtime.getRuntime().availableProcessors());
        List<Double> reads = new ArrayList<>();
        Map<DType, List<DecodeBench.Result>> byType = DecodeBench.runSideBySide(c, name, 42, batchSizes, context, steps,
                EngineConfig.DEFAULTS, dtypes, () -> {
                    reads.add(read.sample());
                    return triad.sample();
                }, System.out);
        DecodeBench.Result baseline = byType.get(dtypes.get(0)).get(0);
        for (DType dtype : dtypes) {
            List<DecodeBench.Result> rs = byType.get(dtype);
            DecodeBench.Result first = rs.get(0);
            DecodeBench.Result last = rs.get(rs.size() - 1);
            double[] t = first.yardstickSamples().clone();
            Arrays.sort(t);
            double[] r = reads.subList(0, t.length).stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double readMedian = r[r.length / 2];
            double gb = first.weightGbPerSecond();
            System.out.printf("  %s %s: batch %d streams weights at %.0f%% of the 2-thread triad sampled between its steps (median of %d, %.1f GB/s; %.1f-%.1f), %.0f%% of a 2-thread read sampled with it (%.1f GB/s), %.0f%% of the triad at the start (%.1f); batch %d computes at %.0f%% of 2-thread matmul, %.0f%% of the FMA loop%n",
                    name, dtype.name().toLowerCase(), first.batchSize(), 100 * gb / first.yardstickMedian(), t.length,
                    first.yardstickMedian(), t[0], t[t.length - 1], 100 * gb / readMedian, readMedian,
                    100 * gb / triadAtStart, triadAtStart, last.batchSize(), 100 * last.gflopsPerSecond() / matmul2,
                    100 * last.gflopsPerSecond() / fma2);
            if (first != baseline) {
                System.out.printf("  %s %s: batch %d decodes %.2fx as fast as %s (steps taken in turns with it)%n",
                        name, dtype.name().toLowerCase(), first.batchSize(),
                        first.tokensPerSecond() / baseline.tokensPerSecond(), dtypes.get(0).name().toLowerCase());
            }
        }
    }

    /** f32, bf16 or f16, any case. */
    static final class DTypeConverter implements picocli.CommandLine.ITypeConverter<DType> {
        @Override
        public DType convert(String value) {
            for (DType d : DType.values()) if (d.name().equalsIgnoreCase(value)) return d;
            throw new picocli.CommandLine.TypeConversionException("'" + value + "': expected f32, bf16 or f16");
        }
    }
}
