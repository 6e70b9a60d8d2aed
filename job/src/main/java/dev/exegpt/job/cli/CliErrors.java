package dev.exegpt.job.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Turns failures into one clear line for the user. A {@link UserError} (or an {@link IllegalArgumentException}
 * from a record's validation) is a problem with the input: its message is printed as is. Anything else is a bug
 * or an environment failure: its message and class are printed, with the stack trace only under
 * {@code EXEGPT_DEBUG=1}.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {

    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    @Override
    public int handleExecutionException(Exception e, CommandLine cli, ParseResult parsed) {
        PrintWriter err = cli.getErr();
        String command = cli.getCommandName();
        if (e instanceof UserError || e instanceof IllegalArgumentException) {
            err.println(command + ": " + e.getMessage());
        } else {
            err.println(command + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        if ("1".equals(System.getenv("EXEGPT_DEBUG"))) {
            e.printStackTrace(err);
        }
        err.flush();
        return e instanceof UserError user ? user.exitCode() : EXIT_FAILURE;
    }

    static int onBadParameter(ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        PrintWriter err = cli.getErr();
        err.println(cli.getCommandName() + ": " + e.getMessage());
        err.println("Try '" + cli.getCommandSpec().qualifiedName() + " --help' for the options.");
        err.flush();
        return EXIT_USAGE;
    }

    /** A problem the user can fix; the message says what is wrong and what is expected. */
    static final class UserError extends RuntimeException {
        private final int exitCode;

        UserError(String message) {
            this(message, EXIT_FAILURE);
        }

        UserError(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }

        int exitCode() {
            return exitCode;
        }
    }

    /** {@code --model DIR} checked (Checkpoints.requireModelDir): a one-line user error when it is no checkpoint. */
    static void requireModelDir(java.nio.file.Path dir) {
        try {
            dev.exegpt.runtime.weights.Checkpoints.requireModelDir(dir);
        } catch (IllegalArgumentException e) {
            throw new UserError("--model=" + e.getMessage());
        }
    }

    /** {@code --backend} parsed and resolved (Backend.resolve): a one-line user error when it is unusable. */
    static dev.exegpt.runtime.engine.Backend resolveBackend(String flag) {
        dev.exegpt.runtime.engine.Backend b;
        try {
            b = dev.exegpt.runtime.engine.Backend.parse(flag);
        } catch (IllegalArgumentException e) {
            throw new UserError("--backend=" + flag + ": expected cpu, cuda or auto", EXIT_USAGE);
        }
        try {
            dev.exegpt.runtime.engine.Backend resolved = b.resolve();
            if (b == dev.exegpt.runtime.engine.Backend.AUTO) {
                System.err.println("backend auto: " + dev.exegpt.runtime.engine.Backend.autoChoice());
            }
            return resolved;
        } catch (UnsupportedOperationException e) {
            throw new UserError(e.getMessage());
        }
    }
}
