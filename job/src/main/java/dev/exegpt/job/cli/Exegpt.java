package dev.exegpt.job.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code exegpt} command line: one entry point for every user-facing tool (broker, producer, tail, model,
 * planner, simulator, job, benchmarks, audit). Each subcommand is a small class in this package that parses flags
 * into the records of the pure modules and calls them; no logic lives here.
 *
 * <p>Errors a user can fix (a wrong flag, an unreachable broker, a missing file) end with one line on stderr
 * that says what is wrong and what is expected, and exit code 2 (usage) or 1 (failure); never a bare stack trace.
 */
@Command(name = "exegpt",
        mixinStandardHelpOptions = true,
        versionProvider = Exegpt.Version.class,
        description = "Constraint-aware LLM inference (after ExeGPT, ASPLOS 2024) on Apache Flink.",
        subcommands = {
            KafkaCommand.class,
            SendCommand.class,
            TailCommand.class,
            RunCommand.class,
            ClusterCommand.class,
            DemoCommand.class,
            AuditCommand.class,
            ModelCommand.class,
            GenerateCommand.class,
            ProfileCommand.class,
            BenchKernelsCommand.class,
            PlanCommand.class,
            SimulateCommand.class,
            CompareCommand.class,
            FidelityCommand.class,
            BenchCommand.class,
        })
public final class Exegpt {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code; tests call this instead of {@link #main}. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Exegpt());
        cli.setExecutionExceptionHandler(new CliErrors());
        cli.setParameterExceptionHandler(CliErrors::onBadParameter);
        return cli.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Exegpt.class.getPackage().getImplementationVersion();
            return new String[] {"exegpt " + (version == null ? "(development build)" : version)};
        }
    }
}
