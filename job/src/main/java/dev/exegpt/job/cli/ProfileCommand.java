package dev.exegpt.job.cli;

import dev.exegpt.runtime.engine.Backend;
import dev.exegpt.runtime.profile.ProfileGrid;
import dev.exegpt.runtime.profile.XProfiler;
import dev.exegpt.schemas.Profile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code exegpt profile}: XProfiler on a model directory; writes the Avro Profile as JSON. */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = "Measure one encoder and one decoder layer, all-reduce, hand-off and state transfer (XProfiler).")
public final class ProfileCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory (config.json + model.safetensors).")
    Path model;

    @Option(names = "--backend", defaultValue = "auto", description = "cpu, cuda or auto. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--tp", defaultValue = "1,2", split = ",", description = "TP degrees to measure (CPU; CUDA: 1). Default: ${DEFAULT-VALUE}.")
    List<Integer> tp = new ArrayList<>();

    @Option(names = "--gpu", defaultValue = "0", description = "CUDA device index (backend cuda). Default: ${DEFAULT-VALUE}.")
    int gpu;

    @Option(names = "--repeats", defaultValue = "5", description = "Timed repeats per entry (median kept). Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--warmups", defaultValue = "2", description = "Untimed runs before the repeats. Default: ${DEFAULT-VALUE}.")
    int warmups;

    @Option(names = "--threads", defaultValue = "0", description = {"Kernel threads per device (CPU), as the engine's"
            + " executor.threads.per.device; 0 = the cores divided by the TP degree, the engine's default. Default: ${DEFAULT-VALUE}."})
    int threads;

    @Option(names = "--out", required = true, description = "Profile file to write (Avro JSON).")
    Path out;

    @Override
    public Integer call() throws Exception {
        CliErrors.requireModelDir(model);
        boolean cuda = CliErrors.resolveBackend(backend) == Backend.CUDA;
        long t0 = System.nanoTime();
        if (threads < 0) {
            throw new CliErrors.UserError("--threads " + threads + ": expected 0 (as the engine) or a positive count", CliErrors.EXIT_USAGE);
        }
        ProfileGrid grid = ProfileGrid.DEFAULTS.withTpDegrees(tp).withRepeats(warmups, repeats).withThreadsPerDevice(threads);
        Profile p;
        if (cuda) {
            if (!tp.stream().allMatch(d -> d == 1)) {
                System.err.println("profile: the CUDA backend runs a model on one GPU (TP degree 1): measuring --tp 1"
                        + " only (--backend cpu measures TP over threads)");
            }
            p = new XProfiler(model, grid.withTpDegrees(List.of(1)), System.out).run(Backend.CUDA, gpu);
        } else {
            p = new XProfiler(model, grid, System.out).run();
        }
        XProfiler.write(p, out);
        System.out.printf("wrote %s: %d entries, %.1f s%n", out, p.getEntries().size(), (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
