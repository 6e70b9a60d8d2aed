package dev.exegpt.job.pipeline;

import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.InferenceResult;

/** One record a bounded run hands back to its client: a result or a dead letter (exactly one is set). */
public record JobOutput(InferenceResult result, DeadLetter deadLetter) {

    public static JobOutput of(InferenceResult result) {
        return new JobOutput(result, null);
    }

    public static JobOutput of(DeadLetter deadLetter) {
        return new JobOutput(null, deadLetter);
    }
}
