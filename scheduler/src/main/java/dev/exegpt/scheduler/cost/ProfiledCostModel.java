package dev.exegpt.scheduler.cost;

import dev.exegpt.scheduler.cost.ProfilePoint.Operation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Costs looked up in an XProfiler table (PAPER.md §3) and interpolated: piecewise-linear over the token count (or
 * batch) within each profiled sequence length, then linear across sequence lengths; below the grid the first point
 * holds (small steps are launch- and weight-bound), above it the last segment is extended. A TP degree that was not
 * profiled is scaled from the nearest profiled one (time x profiled / wanted), which {@link #describe()} reports.
 * Missing communication entries fall back to the given device's links.
 */
public final class ProfiledCostModel implements CostModel {
    private final ProfileTable table;
    private final RooflineCostModel linkFallback;

    public ProfiledCostModel(ProfileTable table, DeviceSpec linkFallback) {
        if (table.points().stream().noneMatch(p -> p.phase() == Phase.DECODE)) {
            throw new IllegalArgumentException("profile of %s has no DECODE entries: expected LAYER or "
                    + "ATTENTION + NON_ATTENTION points for both phases".formatted(table.model().name()));
        }
        this.table = table;
        this.linkFallback = new RooflineCostModel(table.model(), linkFallback);
    }

    @Override public ModelSpec model() { return table.model(); }

    @Override public long deviceMemoryBytes() { return table.deviceMemoryBytes(); }

    @Override public String describe() { return "profiled " + table.deviceName(); }

    @Override
    public double layerMs(Phase phase, int batchSize, int seqTokens, int tpDegree) {
        int tp = nearestTp(phase, tpDegree);
        double scale = (double) tp / tpDegree;
        double x = phase == Phase.ENCODE ? (double) batchSize * seqTokens : batchSize;
        List<ProfilePoint> layer = select(p -> p.phase() == phase && p.operation() == Operation.LAYER && p.tpDegree() == tp);
        double ms;
        if (!layer.isEmpty()) {
            ms = interpolate(layer, x, seqTokens, phase == Phase.ENCODE);
        } else {
            List<ProfilePoint> nonAttn = select(p -> p.phase() == phase && p.operation() == Operation.NON_ATTENTION && p.tpDegree() == tp);
            List<ProfilePoint> attn = select(p -> p.phase() == phase && p.operation() == Operation.ATTENTION && p.tpDegree() == tp);
            if (nonAttn.isEmpty() || attn.isEmpty()) {
                throw new IllegalArgumentException("profile has no %s LAYER nor ATTENTION + NON_ATTENTION points at tp %s"
                        .formatted(phase, tp));
            }
            ms = interpolate(nonAttn, x, 0, phase == Phase.ENCODE) + interpolate(attn, batchSize, seqTokens, false);
        }
        ms *= scale;
        List<ProfilePoint> ar = select(p -> p.operation() == Operation.ALL_REDUCE && p.tpDegree() == tpDegree);
        if (tpDegree > 1 && !ar.isEmpty()) {
            int syncs = phase == Phase.DECODE && model().encoderDecoder() ? 3 : 2;
            ms += syncs * interpolate(ar, x * model().hiddenSize() * ModelSpec.BYTES_PER_PARAM, 0, false);
        }
        return ms;
    }

    @Override
    public double pipelineSendMs(long numBytes, boolean crossNode) {
        List<ProfilePoint> pts = select(p -> p.operation() == Operation.PIPELINE_SEND);
        return pts.isEmpty() ? linkFallback.pipelineSendMs(numBytes, crossNode) : interpolate(pts, numBytes, 0, false);
    }

    @Override
    public double stateTransferMs(long numBytes) {
        List<ProfilePoint> pts = select(p -> p.operation() == Operation.STATE_TRANSFER);
        return pts.isEmpty() ? linkFallback.stateTransferMs(numBytes) : interpolate(pts, numBytes, 0, false);
    }

    private int nearestTp(Phase phase, int tpDegree) {
        return table.points().stream().filter(p -> p.phase() == phase && (p.operation() == Operation.LAYER
                        || p.operation() == Operation.ATTENTION || p.operation() == Operation.NON_ATTENTION))
                .map(ProfilePoint::tpDegree)
                .min(Comparator.comparingDouble(t -> Math.abs(Math.log((double) t / tpDegree))))
                .orElseThrow();
    }

    private List<ProfilePoint> select(Predicate<ProfilePoint> filter) {
        List<ProfilePoint> out = new ArrayList<>();
        for (ProfilePoint p : table.points()) if (filter.test(p)) out.add(p);
        return out;
    }

    /** x is numTokens (encode), batch (decode) or numBytes (communication); y is the sequence length. */
    private static double interpolate(List<ProfilePoint> pts, double x, double y, boolean encodeTokens) {
        TreeMap<Integer, List<double[]>> byLength = new TreeMap<>();
        for (ProfilePoint p : pts) {
            double px = p.operation() == Operation.ALL_REDUCE || p.operation() == Operation.PIPELINE_SEND
                    || p.operation() == Operation.STATE_TRANSFER ? p.numBytes()
                    : encodeTokens || p.operation() == Operation.NON_ATTENTION ? tokens(p) : p.batchSize();
            int key = p.operation() == Operation.NON_ATTENTION || p.numBytes() > 0 ? 0 : p.seqLength();
            byLength.computeIfAbsent(key, k -> new ArrayList<>()).add(new double[] {px, p.medianMs()});
        }
        if (byLength.size() == 1) return along(byLength.firstEntry().getValue(), x);
        Integer lo = byLength.floorKey((int) Math.round(y));
        Integer hi = byLength.ceilingKey((int) Math.round(y));
        if (lo == null) { lo = byLength.firstKey(); hi = byLength.higherKey(lo); }
        if (hi == null) { hi = byLength.lastKey(); lo = byLength.lowerKey(hi); }
        double tLo = along(byLength.get(lo), x);
        if (lo.equals(hi)) return tLo;
        double tHi = along(byLength.get(hi), x);
        return Math.max(0, tLo + (tHi - tLo) * (y - lo) / (hi - lo));
    }

    private static double tokens(ProfilePoint p) {
        return p.numTokens() > 0 ? p.numTokens() : (double) p.batchSize() * Math.max(1, p.seqLength());
    }

    private static double along(List<double[]> xs, double x) {
        xs.sort(Comparator.comparingDouble(a -> a[0]));
        if (xs.size() == 1 || x <= xs.get(0)[0]) return xs.get(0)[1];
        for (int i = 1; i < xs.size(); i++) {
            if (x <= xs.get(i)[0]) {
                double[] a = xs.get(i - 1), b = xs.get(i);
                return a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]);
            }
        }
        double[] a = xs.get(xs.size() - 2), b = xs.get(xs.size() - 1);
        return Math.max(b[1], b[1] + (b[1] - a[1]) * (x - b[0]) / (b[0] - a[0]));
    }
}
