package dev.exegpt.job.cli;

import dev.exegpt.runtime.engine.Backend;

/** Parses and resolves {@code --backend}, turning "no usable CUDA device" into a one-line user error. */
final class BackendOption {
    private BackendOption() {}

    static Backend resolve(String flag) {
        Backend b;
        try {
            b = Backend.parse(flag);
        } catch (IllegalArgumentException e) {
            throw new CliErrors.UserError("--backend=" + flag + ": expected cpu, cuda or auto", CliErrors.EXIT_USAGE);
        }
        try {
            Backend resolved = b.resolve();
            if (b == Backend.AUTO) System.err.println("backend auto: " + Backend.autoChoice());
            return resolved;
        } catch (UnsupportedOperationException e) {
            throw new CliErrors.UserError(e.getMessage());
        }
    }
}
