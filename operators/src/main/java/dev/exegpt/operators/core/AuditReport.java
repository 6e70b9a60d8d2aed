package dev.exegpt.operators.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;

/**
 * The SLO audit of a set of results, as a latency-SLO user reads it: attainment and latency per task, per schedule
 * version and per hour of completion, and the slowest requests with the stage that spent their time.
 */
public final class AuditReport {

    /** One group's summary: a label (task, schedule or hour), its audit, and its results. */
    public record Group(String label, AuditWindow audit, List<InferenceResult> results) {}

    /** A slow request and where its time went. */
    public record Slow(String requestId, String task, double endToEndMs, String dominantStage, double queueMs,
                       double encodeMs, double decodeMs, int numOutputTokens) {}

    private static final long HOUR_MS = 3_600_000;

    private final List<InferenceResult> results;

    public AuditReport(List<InferenceResult> results) {
        this.results = List.copyOf(results);
    }

    public List<Group> byTask() {
        return group(InferenceResult::getTask);
    }

    public List<Group> bySchedule() {
        return group(r -> r.getScheduleId() + " v" + r.getScheduleVersion());
    }

    /** Groups by the UTC hour in which requests completed, labelled {@code yyyy-MM-ddTHH}. */
    public List<Group> byHour() {
        return group(r -> java.time.Instant.ofEpochMilli(r.getLatency().getCompletedEpochMs() / HOUR_MS * HOUR_MS)
                .toString().substring(0, 13));
    }

    /** All results together. */
    public AuditWindow overall() {
        return summarize(results);
    }

    /** The {@code n} slowest requests end to end, with their stage breakdown. */
    public List<Slow> slowest(int n) {
        return results.stream()
                .sorted(Comparator.comparingDouble((InferenceResult r) -> r.getLatency().getEndToEndMs()).reversed())
                .limit(n)
                .map(AuditReport::slow)
                .toList();
    }

    private List<Group> group(Function<InferenceResult, String> key) {
        Map<String, List<InferenceResult>> groups = new TreeMap<>();
        for (InferenceResult r : results) {
            groups.computeIfAbsent(key.apply(r), k -> new ArrayList<>()).add(r);
        }
        List<Group> out = new ArrayList<>();
        groups.forEach((label, rs) -> out.add(new Group(label, summarize(rs), List.copyOf(rs))));
        return out;
    }

    private static AuditWindow summarize(List<InferenceResult> rs) {
        long start = rs.stream().mapToLong(r -> r.getLatency().getArrivedEpochMs()).min().orElse(0);
        long end = rs.stream().mapToLong(r -> r.getLatency().getCompletedEpochMs()).max().orElse(start + 1);
        return Audit.summarize(rs, start, Math.max(end, start + 1), 0);
    }

    private static Slow slow(InferenceResult r) {
        RequestLatency l = r.getLatency();
        String stage = l.getQueueMs() >= l.getEncodeMs() && l.getQueueMs() >= l.getDecodeMs() ? "queue"
                : l.getEncodeMs() >= l.getDecodeMs() ? "encode" : "decode";
        return new Slow(r.getRequestId(), r.getTask(), l.getEndToEndMs(), stage, l.getQueueMs(), l.getEncodeMs(),
                l.getDecodeMs(), r.getNumOutputTokens());
    }
}
