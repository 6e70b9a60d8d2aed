package dev.exegpt.job.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code exegpt model ...}: model checkpoints (today: {@code init}, which writes a seeded random checkpoint). */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Model checkpoints: create them for tests, demos and benchmarks.",
        subcommands = {ModelInitCommand.class})
public final class ModelCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
