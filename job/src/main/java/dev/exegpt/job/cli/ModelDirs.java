package dev.exegpt.job.cli;

import dev.exegpt.runtime.weights.Checkpoints;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks shared by the commands that take {@code --model DIR}. */
final class ModelDirs {
    private ModelDirs() {}

    static void requireModelDir(Path dir) {
        if (Files.isRegularFile(dir.resolve("config.json")) && !Checkpoints.hasWeights(dir)) {
            try {
                Checkpoints.requireSupported(dir);
            } catch (java.io.IOException e) {
                throw new CliErrors.UserError("--model=" + e.getMessage());     // names the format and what is supported
            }
        }
        if (!Files.isRegularFile(dir.resolve("config.json")) || !Checkpoints.hasWeights(dir)) {
            throw new CliErrors.UserError("--model=" + dir + ": expected a directory with config.json and "
                    + "model.safetensors (make one with: exegpt model init --arch opt --size tiny --out " + dir + ")");
        }
    }
}
