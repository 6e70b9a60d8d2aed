package dev.exegpt.runtime.engine;

import static dev.exegpt.runtime.Require.require;

import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How a device group lays the model out (PAPER.md §4.1, §5.1, §6): a pipeline of stages, each a single device or a
 * tensor-parallel group of a fixed degree (partial TP: only some stages are TP groups).
 * <ul>
 *   <li>RRA: every stage holds a consecutive slice of the encoder layers and of the decoder layers and works in both
 *       phases (one copy of the weights).</li>
 *   <li>WAA: encoder stages and decoder stages are different devices; for a decoder-only model the encoder stages
 *       hold a second copy of the layers for prefill, as the paper notes.</li>
 * </ul>
 * The degrees are given per stage, e.g. {@code rra(2, 1, 1)}: three stages, the first a TP group of two devices.
 */
public record DeviceLayout(Policy policy, int[] encoderStageDegrees, int[] decoderStageDegrees) {

    /** The layer allocation policy. */
    public enum Policy { RRA, WAA }

    /** One device holding everything. */
    public static final DeviceLayout SINGLE = rra(1);

    public DeviceLayout {
        require(policy != null, "policy: must be RRA or WAA");
        require(encoderStageDegrees.length >= 1, "a layout needs at least one stage");
        require(policy == Policy.RRA ? decoderStageDegrees.length == 0 : decoderStageDegrees.length >= 1,
                "%s: RRA takes one list of stage degrees, WAA one for encoder and one for decoder stages", policy);
        for (int d : encoderStageDegrees) require(d >= 1, "stage degree %s: must be at least 1", d);
        for (int d : decoderStageDegrees) require(d >= 1, "stage degree %s: must be at least 1", d);
    }

    /** RRA over stages with these TP degrees (1 for a single-device stage). */
    public static DeviceLayout rra(int... stageDegrees) {
        return new DeviceLayout(Policy.RRA, stageDegrees, new int[0]);
    }

    /** WAA with these encoder-stage and decoder-stage TP degrees. */
    public static DeviceLayout waa(int[] encoderStageDegrees, int[] decoderStageDegrees) {
        return new DeviceLayout(Policy.WAA, encoderStageDegrees, decoderStageDegrees);
    }

    /** Devices in the group: the sum of the stage degrees. */
    public int numDevices() {
        return Arrays.stream(encoderStageDegrees).sum() + Arrays.stream(decoderStageDegrees).sum();
    }

    /** The stages for this model, in pipeline order, with the layers each one runs. */
    public List<StageSpec> stages(ModelConfig c) {
        int encodeLayers = c.family().numLayers(c, Phase.ENCODE);
        int decodeLayers = c.numDecoderLayers();
        List<StageSpec> stages = new ArrayList<>();
        if (policy == Policy.RRA) {
            int n = encoderStageDegrees.length;
            require(n <= Math.min(encodeLayers, decodeLayers), "RRA with %s stages: the model has only %s encode and %s"
                    + " decode layers", n, encodeLayers, decodeLayers);
            for (int i = 0; i < n; i++) {
                stages.add(new StageSpec(encoderStageDegrees[i], encodeLayers * i / n, encodeLayers * (i + 1) / n,
                        decodeLayers * i / n, decodeLayers * (i + 1) / n));
            }
        } else {
            int ne = encoderStageDegrees.length;
            int nd = decoderStageDegrees.length;
            require(ne <= encodeLayers && nd <= decodeLayers, "WAA with %s encoder and %s decoder stages: the model has"
                    + " %s encode and %s decode layers", ne, nd, encodeLayers, decodeLayers);
            for (int i = 0; i < ne; i++) {
                stages.add(new StageSpec(encoderStageDegrees[i], encodeLayers * i / ne, encodeLayers * (i + 1) / ne, 0, 0));
            }
            for (int i = 0; i < nd; i++) {
                stages.add(new StageSpec(decoderStageDegrees[i], 0, 0, decodeLayers * i / nd, decodeLayers * (i + 1) / nd));
            }
        }
        for (StageSpec s : stages) {
            require(c.numHeads() % s.tpDegree() == 0 && c.ffnDim() % s.tpDegree() == 0,
                    "TP degree %s must divide the %s heads and the feed-forward size %s", s.tpDegree(), c.numHeads(),
                    c.ffnDim());
        }
        return stages;
    }

    @Override
    public String toString() {
        return policy == Policy.RRA ? "RRA" + Arrays.toString(encoderStageDegrees)
                : "WAA" + Arrays.toString(encoderStageDegrees) + "+" + Arrays.toString(decoderStageDegrees);
    }
}
