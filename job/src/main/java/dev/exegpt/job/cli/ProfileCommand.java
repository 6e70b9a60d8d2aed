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

    @Option(names = "--tp", defaultValue = "1,2", split = ",", description = "TP degrees to measure. Default: ${DEFAULT-VALUE}.")
    List<Integer> tp = new ArrayList<>();

    @Option(names = "--repeats", defaultValue = "5", description = "Timed repeats per entry (median kept). Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--warmups", defaultValue = "2", description = "Untimed runs before the repeats. Default: ${DEFAULT-VALUE}.")
    int warmups;

    @Option(names = "--out", required = true, description = "Profile file to write (Avro JSON).")
    Path out;

    @Override
    public Integer call() throws Exception {
        ModelDirs.requireModelDir(model);
        if (BackendOption.resolve(backend) == Backend.CUDA) {
            if (Backend.parse(backend) == Backend.CUDA) {
                throw new CliErrors.UserError("profile --backend cuda: XProfiler measures the CPU backend only in this"
                        + " build (a CUDA profile is not implemented yet); use --backend cpu");
            }
            System.err.println("profile: XProfiler measures the CPU backend (a CUDA profile is not implemented yet)");
        }
        long t0 = System.nanoTime();
        ProfileGrid grid = ProfileGrid.DEFAULTS.withTpDegrees(tp).withRepeats(warmups, repeats);
        Profile p = new XProfiler(model, grid, System.out).run();
        XProfiler.write(p, out);
        System.out.printf("wrote %s: %d entries, %.1f s%n", out, p.getEntries().size(), (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
