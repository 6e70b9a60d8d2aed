package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.cost.CostModel;
import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.workload.Workload;

/** What is being planned: a model's costs, a device group, a task, and the simulator settings. */
public record Scenario(CostModel cost, int numDevices, int devicesPerNode, Workload workload, SimOptions options) {

    public ModelSpec model() {
        return cost.model();
    }

    public int meanInputTokens() {
        return (int) Math.round(workload.meanInputTokens());
    }

    /** Expected attended context of a resident decoding request: its input plus its length-biased age. */
    public int meanDecodeContextTokens() {
        return (int) Math.round(workload.meanInputTokens() + workload.output().meanResidentAge());
    }

    public Scenario withOptions(SimOptions o) {
        return new Scenario(cost, numDevices, devicesPerNode, workload, o);
    }

    public Scenario withWorkload(Workload w) {
        return new Scenario(cost, numDevices, devicesPerNode, w, options);
    }
}
