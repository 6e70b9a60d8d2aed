package dev.exegpt.operators.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * {@link EngineStep}s as CSV lines, one per step: what an executor writes with {@code executor.step.log.dir} and what
 * {@code exegpt bench} reads back to fit the profile to the engine inside the job. Columns: kind, start and end (ms
 * since the Unix epoch), context tokens, and the batch's prompt lengths separated by spaces.
 */
public final class EngineStepCsv {

    public static final String HEADER = "kind,start_epoch_ms,end_epoch_ms,context_tokens,prompt_tokens";

    private EngineStepCsv() {}

    /** The first line of a step log: the device layout that ran the steps (a comment, which readers skip). */
    public static String layoutLine(String layout) {
        return "# layout " + layout;
    }

    /** Whether a line of a step log carries no step: blank, the header, or a comment such as the layout line. */
    public static boolean isNotAStep(String line) {
        return line.isBlank() || line.equals(HEADER) || line.startsWith("#");
    }

    public static String line(EngineStep s) {
        StringBuilder lengths = new StringBuilder();
        for (int len : s.inputTokens()) {
            if (!lengths.isEmpty()) lengths.append(' ');
            lengths.append(len);
        }
        return String.format(Locale.ROOT, "%s,%.3f,%.3f,%d,%s", s.kind(), s.startEpochMs(), s.endEpochMs(),
                s.numContextTokens(), lengths);
    }

    /**
     * The steps of every step log ({@code *.csv}) in {@code dir} that started at or after {@code fromEpochMs} and ended
     * by {@code toEpochMs}: what a window of a run (a fitting round) ran, in the order of the files' names and lines.
     */
    public static List<EngineStep> read(Path dir, double fromEpochMs, double toEpochMs) throws IOException {
        List<EngineStep> steps = new ArrayList<>();
        try (Stream<Path> logs = Files.list(dir)) {
            for (Path log : logs.filter(f -> f.getFileName().toString().endsWith(".csv")).sorted().toList()) {
                for (String line : Files.readAllLines(log)) {
                    if (isNotAStep(line)) continue;
                    EngineStep s = parse(line);
                    if (s.startEpochMs() >= fromEpochMs && s.endEpochMs() <= toEpochMs) steps.add(s);
                }
            }
        }
        return steps;
    }

    /** The step of one line; IllegalArgumentException, naming the line, if it is not one. */
    public static EngineStep parse(String line) {
        String[] f = line.split(",", -1);
        try {
            if (f.length != 5) throw new IllegalArgumentException("expected 5 columns, got " + f.length);
            int[] lengths = f[4].isBlank() ? new int[0] : Arrays.stream(f[4].trim().split(" ")).mapToInt(Integer::parseInt).toArray();
            return new EngineStep(EngineStep.Kind.valueOf(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]), lengths,
                    Long.parseLong(f[3]));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not an engine step line (" + HEADER + "): '" + line + "': " + e.getMessage(), e);
        }
    }
}
