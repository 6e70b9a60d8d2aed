package dev.exegpt.job.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;

/**
 * Checkpoints of the embedded job kept in its own folder, so that {@code exegpt run} started again after a crash
 * (or a kill) resumes where the last completed checkpoint left it: Kafka offsets, deduplication state, the
 * schedule in force and the requests in flight come back, and the transactions of the results that checkpoint
 * covered are committed. Flink writes {@code <dir>/<job id>/chk-<n>/_metadata} when a checkpoint completes; a
 * {@code chk-<n>} without {@code _metadata} is one the crash interrupted, and is skipped.
 */
public final class RetainedCheckpoints {

    /** Completed checkpoints Flink keeps per job (the newest is the one to resume from; one more in case it is bad). */
    static final int NUM_RETAINED = 2;

    private RetainedCheckpoints() {}

    /** A completed checkpoint: its folder and when it completed. */
    public record Completed(Path dir, FileTime completedAt) {}

    /** The newest completed checkpoint under {@code checkpointsDir}, of any earlier run of the job. */
    public static Optional<Completed> latest(Path checkpointsDir) {
        if (!Files.isDirectory(checkpointsDir)) {
            return Optional.empty();
        }
        try (Stream<Path> jobs = Files.list(checkpointsDir)) {
            return jobs.filter(Files::isDirectory)
                    .flatMap(RetainedCheckpoints::listQuietly)
                    .filter(chk -> chk.getFileName().toString().startsWith("chk-") && Files.isRegularFile(chk.resolve("_metadata")))
                    .map(chk -> new Completed(chk, modified(chk.resolve("_metadata"))))
                    .max(Comparator.comparing(Completed::completedAt));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the checkpoints in " + checkpointsDir, e);
        }
    }

    /** Deletes the folders of earlier runs under {@code checkpointsDir} except the one that holds {@code keep}. */
    public static void pruneOlderRuns(Path checkpointsDir, Completed keep) {
        Path keepJob = keep == null ? null : keep.dir().getParent();
        try (Stream<Path> jobs = Files.list(checkpointsDir)) {
            for (Path job : jobs.filter(Files::isDirectory).toList()) {
                if (!job.equals(keepJob)) {
                    deleteRecursively(job);
                }
            }
        } catch (IOException e) {
            // Only disk space is at stake: the next start tries again.
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * Sets {@code flink} to write checkpoints to {@code checkpointsDir} and keep them when the job ends or dies, and,
     * when {@code restoreFrom} is given, to start from it.
     */
    public static void configure(Configuration flink, Path checkpointsDir, Completed restoreFrom) {
        flink.setString("execution.checkpointing.dir", checkpointsDir.toAbsolutePath().toUri().toString());
        flink.setString("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        flink.setString("execution.checkpointing.num-retained", Integer.toString(NUM_RETAINED));
        if (restoreFrom != null) {
            flink.setString("execution.state-recovery.path", restoreFrom.dir().toAbsolutePath().toUri().toString());
        }
    }

    private static Stream<Path> listQuietly(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList().stream();
        } catch (IOException e) {
            return Stream.empty();          // a job folder that vanished while listing (Flink cleaning up)
        }
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }
}
