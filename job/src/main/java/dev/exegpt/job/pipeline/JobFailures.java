package dev.exegpt.job.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line for a failed job: Flink wraps the cause in several layers ("Job execution failed", "Recovery is
 * suppressed by ..."), so the line names the root cause and, where a message on the way names a Kafka record
 * ({@code topic-partition@offset}, the form of {@code RawRecord.position()}), that record.
 */
public final class JobFailures {

    private static final Pattern POSITION = Pattern.compile("([A-Za-z0-9._-]+-\\d+@\\d+)");

    private JobFailures() {}

    public static String describe(Throwable failure) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        Throwable root = chain.get(chain.size() - 1);
        String record = null;
        for (Throwable t : chain) {
            Matcher m = t.getMessage() == null ? null : POSITION.matcher(t.getMessage());
            if (m != null && m.find()) {
                record = m.group(1);
                break;
            }
        }
        String line = (root.getClass().getName() + ": " + root.getMessage()).replaceAll("\\s*\\R\\s*", " ");
        return record == null ? line : line + " (record " + record + ")";
    }
}
