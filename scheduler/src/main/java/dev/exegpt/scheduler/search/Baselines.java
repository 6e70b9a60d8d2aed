package dev.exegpt.scheduler.search;

import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.XSimulator;
import java.util.ArrayList;
import java.util.List;

/**
 * The baselines' best schedules under a bound, found by sweeping their few knobs on the same simulator:
 * STATIC's batch (1, 2 and multiples of 4, as the paper swept FT, §12.4), DISAGGREGATED's prefill devices and
 * batch; CONTINUOUS has no knob (one prefill per micro-batch per iteration).
 */
public final class Baselines {
    private Baselines() {}

    public static List<Integer> staticBatchSweep() {
        List<Integer> out = new ArrayList<>(List.of(1, 2));
        for (int b = 4; b <= 1024; b += 4) out.add(b);
        return out;
    }

    public static Candidate staticCandidate(XSimulator x, int batch) {
        int n = x.scenario().numDevices();
        int d = tp(x);
        return new Candidate(Policy.STATIC, n, batch, 1, 0, d, d > 1 ? n : 0, 0);
    }

    private static int tp(XSimulator x) {
        int n = x.scenario().numDevices(), d = 1;
        while (d * 2 <= Math.min(n, x.scenario().devicesPerNode()) && n % (d * 2) == 0) d *= 2;
        return d;
    }

    /** The best schedule of a baseline policy that meets the bound, or null. */
    public static Estimate best(XSimulator x, Policy policy, double latencyBoundMs) {
        Estimate best = null;
        for (Candidate c : candidates(x, policy)) {
            Estimate e = x.estimate(c);
            if (e.meets(latencyBoundMs) && (best == null || e.sequencesPerSecond() > best.sequencesPerSecond())) best = e;
        }
        return best;
    }

    public static List<Candidate> candidates(XSimulator x, Policy policy) {
        int n = x.scenario().numDevices();
        List<Candidate> out = new ArrayList<>();
        switch (policy) {
            case STATIC -> staticBatchSweep().forEach(b -> out.add(staticCandidate(x, b)));
            case CONTINUOUS -> out.add(new Candidate(Policy.CONTINUOUS, n, 1, 1, 0, tp(x), tp(x) > 1 ? n : 0, 0));
            case DISAGGREGATED -> {
                for (int ne = 1; ne < n; ne++) {
                    for (int be : SearchSpace.ENCODE_BATCH) out.add(new Candidate(Policy.DISAGGREGATED, n, be, 1, 0, 1, 0, ne));
                }
            }
            default -> throw new IllegalArgumentException("not a baseline: " + policy);
        }
        return out;
    }
}
