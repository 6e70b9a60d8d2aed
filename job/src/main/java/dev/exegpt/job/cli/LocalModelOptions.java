package dev.exegpt.job.cli;

import java.util.List;

import picocli.CommandLine.Option;

import dev.exegpt.job.local.LocalRig;

/** The model and task flags of the commands that make their own model and profile ({@code demo}, {@code bench}); picocli reads them from the subclass. */
abstract class LocalModelOptions {

    @Option(names = "--arch", defaultValue = "t5", description = "t5, opt or llama. Default: ${DEFAULT-VALUE}.")
    String arch;

    @Option(names = "--size", defaultValue = "small", description = "tiny, small or base. Default: ${DEFAULT-VALUE}.")
    String size;

    @Option(names = "--task", defaultValue = "S", description = "Workload task (S: the paper's summarization). Default: ${DEFAULT-VALUE}.")
    String task;

    @Option(names = "--devices", defaultValue = "auto", paramLabel = "N|auto",
            description = {"Devices to plan and run on: N worker threads, each with its share of the cores (a device is at",
                    "least one core); auto: one device with every core, or one device per core, whichever the planner",
                    "serves more requests/s with at the SLO. Over 2+ devices the planner searches RRA (pipelines, TP),",
                    "WAA-C and WAA-M. Default: ${DEFAULT-VALUE}."})
    String devices;

    /** The device counts --devices asks to plan for: N, or for auto one device with every core and one per core. */
    List<Integer> deviceChoices() {
        int cores = LocalRig.cores();
        if (devices.equals("auto")) {
            return LocalRig.deviceCounts();
        }
        try {
            int n = Integer.parseInt(devices.trim());
            if (n >= 1 && n <= cores) return List.of(n);
            if (n > cores) {
                throw new CliErrors.UserError("--devices " + n + ": this machine has " + cores + " cores, and a CPU device is at least"
                        + " one core; expected 1.." + cores + " or auto", CliErrors.EXIT_USAGE);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CliErrors.UserError("--devices " + devices + ": expected a number of devices (1.." + cores + ") or auto",
                CliErrors.EXIT_USAGE);
    }

    /** --slo-ms as a bound, or NaN for auto. */
    static double sloOrAuto(String sloMs) {
        return sloMs.equals("auto") ? Double.NaN : ScenarioOptions.latencyBoundMs("--slo-ms", sloMs);
    }
}
