package dev.exegpt.job.bench;

import dev.exegpt.runtime.bench.DecodeBench;
import dev.exegpt.runtime.engine.DeviceLayout;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.weights.ModelSize;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;

/**
 * Decode throughput of one model and batch under device-group layouts on this machine's cores (a device is a
 * thread): one device with every core, TP over all cores, a pipeline with one micro-batch per stage, and partial
 * TP; printed as the ratio to the one-device engine of the same run.
 */
public final class BenchLayouts {
    private BenchLayouts() {}

    public static void run(String arch, String size, int batch, int context, int steps) {
        ModelConfig c = ModelSize.parse(size).config(Architecture.parse(arch));
        String name = arch.toLowerCase() + "-" + size.toLowerCase();
        List<Object[]> layouts = List.of(
                new Object[] {"one device, 2 kernel threads", EngineConfig.DEFAULTS},
                new Object[] {"TP=2 (one stage of 2 devices)", EngineConfig.DEFAULTS.withLayout(DeviceLayout.rra(2))},
                new Object[] {"RRA pipeline 2 stages, 2 micro-batches", EngineConfig.DEFAULTS.withLayout(DeviceLayout.rra(1, 1))},
                new Object[] {"RRA pipeline 2 stages, 1 micro-batch", EngineConfig.DEFAULTS.withLayout(DeviceLayout.rra(1, 1)).withNumMicroBatches(1)});
        System.out.printf("layouts, decode %s batch %d (%d prompt tokens):%n", name, batch, context);
        double base = 0;
        for (Object[] l : layouts) {
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            DecodeBench.Result r = DecodeBench.run(c, name, 42, new int[] {batch}, context, steps, (EngineConfig) l[1], quiet).get(0);
            if (base == 0) base = r.tokensPerSecond();
            System.out.printf("  %-42s %7.1f ms/step (best %6.1f) %8.1f tokens/s (%4.2fx one device)%n", l[0],
                    r.msPerStep(), r.bestMsPerStep(), r.tokensPerSecond(), r.tokensPerSecond() / base);
        }
    }
}
