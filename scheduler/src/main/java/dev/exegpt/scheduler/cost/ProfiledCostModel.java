package dev.exegpt.scheduler.cost;

import dev.exegpt.scheduler.cost.ProfilePoint.Operation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Costs looked up in an XProfiler table (PAPER.md §3) and interpolated: piecewise-linear over the token count (or
 * batch) within each profiled sequence length, then linear across sequence lengths; below the grid the first point
 * holds (small steps are launch- and weight-bound), above it the last segment is extended. A TP degree that was not
 * profiled is scaled from the nearest profiled one (time x profiled / wanted). Missing communication entries fall
 * back to the given device's links. The model head (HEAD points, per step over the row count) is interpolated over
 * the rows; it is not sharded by the engine, so its TP degree is ignored; a profile without HEAD points (made before
 * XProfiler measured the head) gives a head cost of 0, and {@link #hasHead} says so. The table is indexed once, so a
 * lookup costs two binary searches.
 *
 * <p>Decode context of an encoder-decoder model: {@link CostModel#layerMs} counts the keys a decoder row attends to
 * in all (self-attention over the output so far plus cross-attention over the input, as the roofline counts them),
 * while an XProfiler DECODE point at seqLength L gives the layer both L cached positions and an encoder output of L
 * tokens, 2L keys; so an encoder-decoder decode step of seqTokens keys is looked up at seqLength seqTokens / 2.
 */
public final class ProfiledCostModel implements CostModel {
    private final ProfileTable table;
    private final RooflineCostModel linkFallback;
    private final Map<String, Curve> curves = new HashMap<>();
    private final Map<Phase, int[]> computeTps = new HashMap<>();

    /** Points of one (phase, operation, TP degree), grouped by sequence length, each group sorted by x. */
    private static final class Curve {
        final int[] lengths;
        final double[][] xs;
        final double[][] ts;

        Curve(TreeMap<Integer, List<double[]>> byLength) {
            lengths = byLength.keySet().stream().mapToInt(Integer::intValue).toArray();
            xs = new double[lengths.length][];
            ts = new double[lengths.length][];
            int i = 0;
            for (List<double[]> pts : byLength.values()) {
                pts.sort(Comparator.comparingDouble(a -> a[0]));
                xs[i] = pts.stream().mapToDouble(a -> a[0]).toArray();
                ts[i] = pts.stream().mapToDouble(a -> a[1]).toArray();
                i++;
            }
        }

        double at(double x, double y) {
            if (lengths.length == 1) return along(0, x);
            int hi = Arrays.binarySearch(lengths, (int) Math.round(y));
            if (hi >= 0) return along(hi, x);
            hi = Math.min(Math.max(-hi - 1, 1), lengths.length - 1);
            int lo = hi - 1;
            double tLo = along(lo, x), tHi = along(hi, x);
            return Math.max(0, tLo + (tHi - tLo) * (y - lengths[lo]) / (lengths[hi] - lengths[lo]));
        }

        private double along(int row, double x) {
            double[] a = xs[row], t = ts[row];
            if (a.length == 1 || x <= a[0]) return t[0];
            int i = Arrays.binarySearch(a, x);
            if (i >= 0) return t[i];
            i = -i - 1;
            if (i >= a.length) i = a.length - 1;
            return Math.max(i == a.length - 1 && x > a[i] ? t[i] : 0, t[i - 1] + (t[i] - t[i - 1]) * (x - a[i - 1]) / (a[i] - a[i - 1]));
        }
    }

    public ProfiledCostModel(ProfileTable table, DeviceSpec linkFallback) {
        if (table.points().stream().noneMatch(p -> p.phase() == Phase.DECODE && isCompute(p.operation()))) {
            throw new IllegalArgumentException("profile of %s has no DECODE entries: expected LAYER or "
                    .formatted(table.model().name()) + "ATTENTION + NON_ATTENTION points for both phases");
        }
        this.table = table;
        this.linkFallback = new RooflineCostModel(table.model(), linkFallback);
        Map<String, TreeMap<Integer, List<double[]>>> groups = new HashMap<>();
        Map<Phase, TreeSet<Integer>> tps = new HashMap<>();
        for (ProfilePoint p : table.points()) {
            Operation op = p.operation();
            if (op == Operation.HEAD) {
                groups.computeIfAbsent(op.name(), k -> new TreeMap<>()).computeIfAbsent(0, k -> new ArrayList<>())
                        .add(new double[] {p.batchSize(), p.medianMs()});
                continue;
            }
            boolean comm = !isCompute(op);
            double x = comm ? p.numBytes()
                    : p.phase() == Phase.ENCODE || op == Operation.NON_ATTENTION ? tokens(p) : p.batchSize();
            int length = comm || op == Operation.NON_ATTENTION ? 0 : p.seqLength();
            groups.computeIfAbsent(key(p.phase(), op, p.tpDegree()), k -> new TreeMap<>())
                    .computeIfAbsent(length, k -> new ArrayList<>()).add(new double[] {x, p.medianMs()});
            if (!comm) tps.computeIfAbsent(p.phase(), k -> new TreeSet<>()).add(p.tpDegree());
        }
        groups.forEach((k, v) -> curves.put(k, new Curve(v)));
        tps.forEach((phase, set) -> computeTps.put(phase, set.stream().mapToInt(Integer::intValue).toArray()));
        if (!computeTps.containsKey(Phase.ENCODE)) {
            throw new IllegalArgumentException("profile of %s has no ENCODE entries".formatted(table.model().name()));
        }
    }

    private static boolean isCompute(Operation op) {
        return op == Operation.LAYER || op == Operation.ATTENTION || op == Operation.NON_ATTENTION;
    }

    private static String key(Phase phase, Operation op, int tp) {
        return switch (op) {
            case PIPELINE_SEND, STATE_TRANSFER, HEAD -> op.name();
            case ALL_REDUCE -> op.name() + "/" + tp;
            default -> phase + "/" + op + "/" + tp;
        };
    }

    private static double tokens(ProfilePoint p) {
        return p.numTokens() > 0 ? p.numTokens() : (double) p.batchSize() * Math.max(1, p.seqLength());
    }

    @Override public ModelSpec model() { return table.model(); }

    @Override public long deviceMemoryBytes() { return table.deviceMemoryBytes(); }

    @Override public String describe() { return "profiled " + table.deviceName(); }

    @Override
    public double layerMs(Phase phase, int batchSize, int seqTokens, int tpDegree) {
        int tp = nearestTp(phase, tpDegree);
        double x = phase == Phase.ENCODE ? (double) batchSize * seqTokens : batchSize;
        double y = phase == Phase.DECODE && model().encoderDecoder() ? seqTokens / 2.0 : seqTokens;
        Curve layer = curves.get(key(phase, Operation.LAYER, tp));
        double ms;
        if (layer != null) {
            ms = layer.at(x, y);
            // An encode step never costs more than its sequences one after another: the table's batched points are
            // interpolated, and above the grid extrapolated, along the token count, where one disturbed point bends
            // the line (the CPU engine's encode is in fact about linear in the batch: 12 prompts of T5-small cost what
            // the 12 do one by one, within 1-7%).
            if (phase == Phase.ENCODE && batchSize > 1) ms = Math.min(ms, batchSize * layer.at(seqTokens, y));
        } else {
            Curve nonAttn = curves.get(key(phase, Operation.NON_ATTENTION, tp));
            Curve attn = curves.get(key(phase, Operation.ATTENTION, tp));
            if (nonAttn == null || attn == null) {
                throw new IllegalArgumentException("profile has no %s LAYER nor ATTENTION + NON_ATTENTION points at tp %s"
                        .formatted(phase, tp));
            }
            ms = nonAttn.at(x, 0) + attn.at(batchSize, y);
        }
        ms *= (double) tp / tpDegree;
        Curve ar = curves.get(key(phase, Operation.ALL_REDUCE, tpDegree));
        if (tpDegree > 1 && ar != null) {
            int syncs = phase == Phase.DECODE && model().encoderDecoder() ? 3 : 2;
            ms += syncs * ar.at(x * model().hiddenSize() * ModelSpec.BYTES_PER_PARAM, 0);
        }
        return ms;
    }

    /** Whether the profile measured the model head (XProfiler since the HEAD operation); without, headMs is 0. */
    public boolean hasHead() {
        return curves.containsKey(Operation.HEAD.name());
    }

    @Override
    public double headMs(int numRows, int tpDegree) {
        Curve c = curves.get(Operation.HEAD.name());
        return c == null || numRows <= 0 ? 0 : c.at(numRows, 0);
    }

    @Override
    public double pipelineSendMs(long numBytes, boolean crossNode) {
        Curve c = curves.get(Operation.PIPELINE_SEND.name());
        return c == null ? linkFallback.pipelineSendMs(numBytes, crossNode) : c.at(numBytes, 0);
    }

    @Override
    public double stateTransferMs(long numBytes) {
        Curve c = curves.get(Operation.STATE_TRANSFER.name());
        return c == null ? linkFallback.stateTransferMs(numBytes) : c.at(numBytes, 0);
    }

    private int nearestTp(Phase phase, int tpDegree) {
        int best = -1;
        for (int t : computeTps.get(phase)) {
            if (best < 0 || Math.abs(Math.log((double) t / tpDegree)) < Math.abs(Math.log((double) best / tpDegree))) best = t;
        }
        return best;
    }
}
