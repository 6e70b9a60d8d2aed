package dev.exegpt.job.bench;

import java.util.ArrayList;
import java.util.List;

import dev.exegpt.job.local.LocalRig;
import dev.exegpt.operators.runner.Policies;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.SimResult;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/** One policy of the bench: its schedule, the simulators' predictions and what was measured. */
public final class BenchArm {
    public final String name;
    public final Estimate estimate;
    public final Schedule schedule;
    public final SimResult event;
    public final XSimulator xsim;                     // the profile the arm was planned on
    public final List<List<InferenceResult>> rounds = new ArrayList<>();
    public final String plannedLayout;
    public double offeredRate;
    /** The SLO every request of the arm carries (bench --sweep: the arm's bound), ms; null: the task's SLO. */
    public Long requestSloMs;
    public BenchFigures measured;

    public BenchArm(String name, Estimate estimate, Schedule schedule, SimResult event, XSimulator xsim) {
        this.name = name;
        this.estimate = estimate;
        this.schedule = schedule;
        this.event = event;
        this.xsim = xsim;
        this.plannedLayout = LocalRig.plannedLayout(schedule);
    }

    /** The layouts its results name (executedLayout), in order of first appearance; the planned one when none ran yet. */
    public List<String> executedLayouts() {
        List<String> seen = rounds.stream().flatMap(List::stream).map(InferenceResult::getExecutedLayout)
                .filter(l -> l != null && !l.isEmpty()).distinct().toList();
        return seen;
    }

    /** The label with the layout that ran, as the table shows it. */
    public String tableLabel() {
        List<String> ran = executedLayouts();
        return label() + " ran " + (ran.isEmpty() ? "?" : String.join(" / ", ran));
    }

    /** The engines it needs: arms with the same key share a job (the layout is fixed when an executor opens). */
    public String jobKey() {
        // As the executor splits a decode batch: ceil(B_D / B_m) micro-batches, at most one per decoder stage; without
        // B_m, the engine's default of one per stage.
        int bm = schedule.getDecodeMicroBatchSize();
        int stages = Policies.stageDegrees(schedule, dev.exegpt.scheduler.plan.Role.DECODER).length;
        int microBatches = bm > 0 && schedule.getDecodeBatchSize() > 0
                ? Math.max(1, Math.min(stages, (schedule.getDecodeBatchSize() + bm - 1) / bm)) : stages;   // else one per stage
        return plannedLayout + (Policies.splitsEncodeAndDecode(schedule) ? " micro-batches " + microBatches : "");
    }

    public String label() {
        // One device: the tensor-parallel and pipeline fields say nothing ("TP=1x0", "TP=1 PP=1").
        return name + " " + estimate.candidate().describe().replaceAll(" TP=1x[01]$| TP=1 PP=1$", "");
    }
}
