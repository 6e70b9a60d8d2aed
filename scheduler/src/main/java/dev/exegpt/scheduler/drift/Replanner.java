package dev.exegpt.scheduler.drift;

import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.Workload;
import java.util.List;

/**
 * Re-plans when the detector fires: the current schedule is re-simulated under the observed distribution (does it
 * still meet the bound?), a new plan is searched, and the cost is reported: search time, and whether executors must
 * re-deploy weights (a changed device split or TP layout) or only change batch sizes / N_D at a batch boundary
 * (PAPER.md §4.4: RRA adapts through N_D alone; Table 4 gives 0.9-3.5 s to reload weights from host memory).
 */
public final class Replanner {

    public record Outcome(DriftDetector.Verdict verdict, Estimate currentUnderDrift, Plan replanned, boolean redeploy,
                          String summary) {}

    private Replanner() {}

    public static Outcome replan(Scenario planned, Candidate current, double latencyBoundMs, DriftDetector detector,
                                 List<Policy> policies) {
        DriftDetector.Verdict v = detector.check();
        if (!v.drifted()) return new Outcome(v, null, null, false, "no drift: " + v.reason());
        Workload w = planned.workload().withOutput(detector.observed(), planned.workload().name() + "-observed");
        XSimulator now = new XSimulator(planned.withWorkload(w));
        Estimate stale = now.estimate(current);
        Plan p = new XScheduler(now).plan(latencyBoundMs, policies);
        boolean redeploy = p.feasible() && layoutChanged(now, current, p.best());
        String summary = "%s; current %s under the observed lengths: %.0f ms%s; re-plan %s in %.0f ms (%d candidates)%s"
                .formatted(v.reason(), current.describe(), stale.latencyMs(),
                        stale.meets(latencyBoundMs) ? " (meets the bound)" : " (VIOLATES the bound)",
                        p.feasible() ? p.best().candidate().describe() : "infeasible", p.searchTimeMs(), p.numSimulated(),
                        p.feasible() ? (redeploy ? ", needs a weight re-deploy" : ", switch at a batch boundary") : "");
        return new Outcome(v, stale, p, redeploy, summary);
    }

    private static boolean layoutChanged(XSimulator x, Candidate a, Estimate b) {
        Candidate c = b.candidate();
        if (a.policy().isWaa() != c.policy().isWaa() || a.tpDegree() != c.tpDegree() || a.numTpDevices() != c.numTpDevices()) {
            return true;
        }
        return c.policy().isWaa() && x.estimate(a).numEncoderDevices() != b.numEncoderDevices();
    }
}
