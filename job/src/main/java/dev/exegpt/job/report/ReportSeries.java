package dev.exegpt.job.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;

/**
 * What the report's charts draw, derived from a run's results alone (pure; no drawing here). Times on the x axes are
 * seconds since the run's first arrival, so runs made one after another overlay.
 */
final class ReportSeries {

    /** One point of a series: x and y in the chart's units. */
    record Point(double x, double y) {}

    /** A bar of the execution timeline: {@code numRequests} requests on {@code lane} from start to end, s. */
    record Block(String lane, double startS, double endS, int numRequests) {}

    /** Encode starts closer than this, ms, on one executor are one step (the parts of a latency are doubles). */
    static final double SAME_STEP_MS = 0.5;

    private ReportSeries() {}

    /** The run's time origin: its first arrival, ms since the epoch (0 for no results). */
    static long originEpochMs(List<InferenceResult> results) {
        return results.stream().mapToLong(r -> r.getLatency().getArrivedEpochMs()).min().orElse(0);
    }

    /** The empirical CDF of latency on {@code clock}: x = latency in ms (ascending), y = share of requests at or below, 0..1. */
    static List<Point> latencyCdf(List<InferenceResult> results, SloClock clock) {
        double[] ms = results.stream().mapToDouble(clock::latencyMs).sorted().toArray();
        List<Point> out = new ArrayList<>(ms.length);
        for (int i = 0; i < ms.length; i++) {
            if (i + 1 < ms.length && ms[i + 1] == ms[i]) {
                continue;                                  // one point per distinct latency, at its highest rank
            }
            out.add(new Point(ms[i], (i + 1) / (double) ms.length));
        }
        return out;
    }

    /**
     * SLO attainment on {@code clock} per window of completion time: x = the window's end, s since the origin; y =
     * percent of the results with an SLO that completed in the window and met it. Windows with no such result are
     * left out (a chart draws them as gaps).
     */
    static List<Point> attainment(List<InferenceResult> results, SloClock clock, long originEpochMs, long windowMs) {
        Map<Long, int[]> windows = new TreeMap<>();        // window index -> {met, with SLO}
        for (InferenceResult r : results) {
            Boolean met = clock.met(r);
            if (met == null) {
                continue;
            }
            int[] counts = windows.computeIfAbsent(window(r.getLatency().getCompletedEpochMs(), originEpochMs, windowMs),
                    k -> new int[2]);
            counts[0] += met ? 1 : 0;
            counts[1]++;
        }
        List<Point> out = new ArrayList<>();
        windows.forEach((w, c) -> out.add(new Point((w + 1) * windowMs / 1000.0, 100.0 * c[0] / c[1])));
        return out;
    }

    /** Mean encode batch size per window of encode start (one value per micro-batch, not per request). */
    static List<Point> encodeBatchSize(List<InferenceResult> results, long originEpochMs, long windowMs) {
        List<Point> starts = new ArrayList<>();
        for (Block b : encodeBlocks(results, originEpochMs)) {
            starts.add(new Point(b.startS(), b.numRequests()));
        }
        return windowMeans(starts, windowMs);
    }

    /** Mean of the requests' mean decode batch sizes per window of completion time. */
    static List<Point> decodeBatchSize(List<InferenceResult> results, long originEpochMs, long windowMs) {
        List<Point> points = new ArrayList<>();
        for (InferenceResult r : results) {
            if (r.getMeanDecodeBatchSize() > 0) {
                points.add(new Point((r.getLatency().getCompletedEpochMs() - originEpochMs) / 1000.0, r.getMeanDecodeBatchSize()));
            }
        }
        return windowMeans(points, windowMs);
    }

    /**
     * The encode micro-batches: requests answered by the same executor whose encode began at the same time
     * (arrived + queueMs, within {@value #SAME_STEP_MS} ms) ran in one encode step, drawn from that start for the
     * step's encodeMs. Sorted by lane, then start.
     */
    static List<Block> encodeBlocks(List<InferenceResult> results, long originEpochMs) {
        Map<String, List<double[]>> byLane = new TreeMap<>();        // lane -> {start ms, encodeMs}
        for (InferenceResult r : results) {
            RequestLatency l = r.getLatency();
            if (r.getEncodeBatchSize() == 0) {
                continue;                                  // never encoded (refused or timed out)
            }
            byLane.computeIfAbsent(r.getExecutorId(), k -> new ArrayList<>())
                    .add(new double[] {l.getArrivedEpochMs() + l.getQueueMs(), l.getEncodeMs()});
        }
        List<Block> out = new ArrayList<>();
        byLane.forEach((lane, steps) -> {
            steps.sort(Comparator.comparingDouble(s -> s[0]));
            int first = 0;
            for (int i = 1; i <= steps.size(); i++) {
                if (i == steps.size() || steps.get(i)[0] - steps.get(first)[0] > SAME_STEP_MS) {
                    double startMs = steps.get(first)[0];
                    double encodeMs = steps.subList(first, i).stream().mapToDouble(s -> s[1]).max().orElse(0);
                    out.add(new Block(lane, (startMs - originEpochMs) / 1000.0, (startMs + encodeMs - originEpochMs) / 1000.0,
                            i - first));
                    first = i;
                }
            }
        });
        return out;
    }

    /**
     * The decode activity per executor: the union of its requests' decode spans (encode end to last token), so a
     * span is a stretch of time in which the executor had at least one sequence decoding; numRequests counts the
     * requests whose spans merged into it. Sorted by lane, then start.
     */
    static List<Block> decodeSpans(List<InferenceResult> results, long originEpochMs) {
        Map<String, List<double[]>> byLane = new TreeMap<>();        // lane -> {start ms, end ms}
        for (InferenceResult r : results) {
            RequestLatency l = r.getLatency();
            if (l.getDecodeMs() <= 0) {
                continue;
            }
            double endMs = l.getArrivedEpochMs() + l.getEndToEndMs();
            byLane.computeIfAbsent(r.getExecutorId(), k -> new ArrayList<>()).add(new double[] {endMs - l.getDecodeMs(), endMs});
        }
        List<Block> out = new ArrayList<>();
        byLane.forEach((lane, spans) -> {
            spans.sort(Comparator.comparingDouble(s -> s[0]));
            double start = spans.get(0)[0];
            double end = spans.get(0)[1];
            int n = 0;
            for (double[] s : spans) {
                if (s[0] > end) {
                    out.add(new Block(lane, (start - originEpochMs) / 1000.0, (end - originEpochMs) / 1000.0, n));
                    start = s[0];
                    n = 0;
                }
                end = Math.max(end, s[1]);
                n++;
            }
            out.add(new Block(lane, (start - originEpochMs) / 1000.0, (end - originEpochMs) / 1000.0, n));
        });
        return out;
    }

    /**
     * At most {@code max} of the points, evenly spaced by index, the last always kept (a CDF of a long run keeps its
     * shape in a few thousand points, and the page stays small).
     */
    static List<Point> thin(List<Point> points, int max) {
        if (points.size() <= max) {
            return points;
        }
        List<Point> out = new ArrayList<>(max);
        for (int i = 0; i < max - 1; i++) {
            out.add(points.get((int) ((long) i * (points.size() - 1) / (max - 1))));
        }
        out.add(points.get(points.size() - 1));
        return out;
    }

    /** A window length that splits {@code spanMs} into about {@code numWindows} windows: 1, 2 or 5 x 10^k ms, at least 100 ms. */
    static long windowMs(long spanMs, int numWindows) {
        double raw = Math.max(1, spanMs) / (double) Math.max(1, numWindows);
        long step = 100;
        while (step < raw) {
            long next = nextNice(step);
            if (next > raw && (next - raw) > (raw - step)) {
                break;
            }
            step = next;
        }
        return step;
    }

    /** The run's span from first arrival to last completion, ms (at least 1). */
    static long spanMs(List<InferenceResult> results) {
        long first = originEpochMs(results);
        long last = results.stream().mapToLong(r -> r.getLatency().getCompletedEpochMs()).max().orElse(first);
        return Math.max(1, last - first);
    }

    private static long nextNice(long step) {
        long decade = 1;
        while (decade * 10 <= step) {
            decade *= 10;
        }
        long mantissa = step / decade;
        return mantissa == 1 ? 2 * decade : mantissa == 2 ? 5 * decade : 10 * decade;
    }

    private static long window(long epochMs, long originEpochMs, long windowMs) {
        return Math.floorDiv(epochMs - originEpochMs, windowMs);
    }

    private static List<Point> windowMeans(List<Point> points, long windowMs) {
        Map<Long, double[]> windows = new TreeMap<>();     // window index -> {sum, count}
        for (Point p : points) {
            double[] acc = windows.computeIfAbsent((long) Math.floor(p.x() * 1000 / windowMs), k -> new double[2]);
            acc[0] += p.y();
            acc[1]++;
        }
        List<Point> out = new ArrayList<>();
        windows.forEach((w, acc) -> out.add(new Point((w + 1) * windowMs / 1000.0, acc[0] / acc[1])));
        return out;
    }
}
