package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the checkpoint to resume from, and the one line a failed job gets. */
class RestartSupportTest {

    private static Path checkpoint(Path dir, String job, int n, boolean completed, long atMs) throws Exception {
        Path chk = Files.createDirectories(dir.resolve(job).resolve("chk-" + n));
        if (completed) {
            Files.writeString(chk.resolve("_metadata"), "x");
            Files.setLastModifiedTime(chk.resolve("_metadata"), FileTime.fromMillis(atMs));
        }
        return chk;
    }

    @Test
    void theNewestCompletedCheckpointOfAnyRunShouldBeChosen(@TempDir Path dir) throws Exception {
        assertTrue(RetainedCheckpoints.latest(dir.resolve("none")).isEmpty(), "no folder, no checkpoint");
        checkpoint(dir, "run-a", 7, true, 1_000_000);
        Path newest = checkpoint(dir, "run-b", 3, true, 2_000_000);
        checkpoint(dir, "run-b", 4, false, 0);                     // the kill came while it was written
        Files.createDirectories(dir.resolve("run-b").resolve("shared"));
        RetainedCheckpoints.Completed latest = RetainedCheckpoints.latest(dir).orElseThrow();
        assertEquals(newest, latest.dir());

        Configuration flink = new Configuration();
        RetainedCheckpoints.configure(flink, dir, latest);
        assertEquals(newest.toUri().toString(), flink.getString("execution.state-recovery.path", null));
        assertEquals("RETAIN_ON_CANCELLATION", flink.getString("execution.checkpointing.externalized-checkpoint-retention", null));
        assertEquals(dir.toUri().toString(), flink.getString("execution.checkpointing.dir", null));

        RetainedCheckpoints.pruneOlderRuns(dir, latest);
        assertFalse(Files.exists(dir.resolve("run-a")), "an older run's checkpoints go");
        assertTrue(Files.exists(newest.resolve("_metadata")), "the one to resume from stays");
    }

    @Test
    void aFailedJobShouldBeOneLineWithItsRootCauseAndRecord() {
        Exception e = new RuntimeException("org.apache.flink.runtime.client.JobExecutionException: Job execution failed.",
                new IllegalStateException("Recovery is suppressed by ExponentialDelayRestartBackoffTimeStrategy",
                        new IllegalArgumentException("record exegpt.requests.x-3@1234 is poison:\n  line two")));
        String line = JobFailures.describe(e);
        assertEquals("java.lang.IllegalArgumentException: record exegpt.requests.x-3@1234 is poison: line two "
                + "(record exegpt.requests.x-3@1234)", line);
        assertFalse(line.contains("\n"));
        assertEquals("java.io.IOException: disk full", JobFailures.describe(new RuntimeException("wrapped",
                new java.io.IOException("disk full"))));
    }
}
