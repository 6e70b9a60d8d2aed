package dev.exegpt.job.cli;

import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.cost.Cluster;
import dev.exegpt.scheduler.cost.CostModel;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.ProfileTable;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.sim.BatchComposition;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.scheduler.workload.Workloads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The flags that say what is planned: costs (a profile or a model spec on hardware) and a workload. */
final class ScenarioOptions {
    @Option(names = "--profile", paramLabel = "FILE", description = "XProfiler profile (Avro JSON of Profile).")
    Path profile;

    @Option(names = "--model-spec", paramLabel = "NAME", description = "Analytic model: t5-11b, opt-13b, gpt3-39b, gpt3-101b, gpt3-175b, gpt3-341b (the paper's); llama2-7b, llama2-70b, llama3-8b, mistral-7b, qwen2-7b, smollm2-135m (Llama family, grouped-query attention).")
    String modelSpec;

    @Option(names = "--hardware", paramLabel = "KIND:N", description = "Devices, e.g. a40:4, a100:16, h100:8 (with --profile: the device count; default 1).")
    String hardware;

    @Option(names = "--task", paramLabel = "NAME", description = "Workload task: S, T, G, C1, C2, conversation, code, humaneval, arxiv, cnn_dailymail, wmt.")
    String task;

    @Option(names = "--workload", paramLabel = "FILE", description = "Workload file in the datasets/*.properties format.")
    Path workload;

    @Option(names = "--batch-formula", paramLabel = "little|literal", defaultValue = "little",
            description = "RRA/WAA decode batch: Little's law (default) or the paper's formula read literally (PAPER.md §8.4).")
    String batchFormula;

    /** With --profile and no --hardware: the devices the profiled device is replicated into (a CPU's worker threads). */
    int profileDevices = 1;

    boolean anyGiven() {
        return profile != null || modelSpec != null || hardware != null || task != null || workload != null;
    }

    String modelName() {
        return modelSpec != null ? modelSpec : profile == null ? "" : profile.getFileName().toString();
    }

    String hardwareName() {
        return hardware == null ? "" : hardware;
    }

    String taskName() {
        return task != null ? task : workload == null ? "" : workload.getFileName().toString();
    }

    Workload workload() {
        if ((task == null) == (workload == null)) {
            throw new CliErrors.UserError("give exactly one of --task NAME (one of %s) or --workload FILE".formatted(Workloads.names()), 2);
        }
        if (workload != null) {
            if (!Files.isRegularFile(workload)) throw new CliErrors.UserError("--workload=%s: no such file".formatted(workload), 2);
            return Workloads.load(workload);
        }
        try {
            return Workloads.byName(task);
        } catch (IllegalArgumentException e) {
            throw new CliErrors.UserError("--task=" + e.getMessage(), 2);
        }
    }

    Cluster cluster(String fallback) {
        String spec = hardware != null ? hardware : fallback;
        try {
            return Cluster.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new CliErrors.UserError("--hardware=%s: %s".formatted(spec, e.getMessage()), 2);
        }
    }

    Scenario scenario() {
        if ((profile == null) == (modelSpec == null)) {
            throw new CliErrors.UserError("give exactly one of --profile FILE or --model-spec NAME (with --hardware KIND:N)", 2);
        }
        Workload w = workload();
        CostModel cost;
        Cluster cluster;
        if (profile != null) {
            if (!Files.isRegularFile(profile)) throw new CliErrors.UserError("--profile=%s: no such file".formatted(profile), 2);
            ProfileTable table = ProfileCodec.read(profile);
            cluster = cluster(deviceKind(table.deviceName()) + ":" + profileDevices);
            cost = new ProfiledCostModel(table, cluster.device());
        } else {
            if (hardware == null) throw new CliErrors.UserError("--model-spec needs --hardware KIND:N (e.g. a40:4)", 2);
            cluster = cluster(hardware);
            try {
                cost = new RooflineCostModel(ModelSpecs.byName(modelSpec), cluster.device());
            } catch (IllegalArgumentException e) {
                throw new CliErrors.UserError("--model-spec=" + e.getMessage(), 2);
            }
        }
        BatchComposition.Mode mode = switch (batchFormula.toLowerCase(Locale.ROOT)) {
            case "little" -> BatchComposition.Mode.LITTLE;
            case "literal" -> BatchComposition.Mode.LITERAL;
            default -> throw new CliErrors.UserError("--batch-formula=%s: expected little or literal".formatted(batchFormula), 2);
        };
        return new Scenario(cost, cluster.numDevices(), cluster.device().devicesPerNode(), w,
                SimOptions.DEFAULTS.withBatchMode(mode));
    }

    private static String deviceKind(String deviceName) {
        return DeviceSpec.forDeviceName(deviceName).name();
    }

    /** Parses --slo-ms: a positive number of ms, or inf / none for no bound. */
    static double latencyBoundMs(String flag, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("inf") || v.equals("infinity") || v.equals("none")) return Double.POSITIVE_INFINITY;
        try {
            double ms = Double.parseDouble(v);
            if (ms > 0) return ms;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CliErrors.UserError("%s=%s: expected a positive number of milliseconds, or inf".formatted(flag, value), 2);
    }
}
