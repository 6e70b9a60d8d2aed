package dev.exegpt.operators.runner;

import dev.exegpt.runtime.engine.ChunkedPrefillEngine;
import dev.exegpt.runtime.engine.StepEngine;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.plan.PolicyRegistry;
import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.scheduler.policy.BatchingPolicy;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.Schedule;

/**
 * The batching policy an executor runs for a {@link Schedule}: {@link PolicyRegistry} over
 * {@link ScheduleCodec#planArgs}, the same reading of a schedule the event simulator makes (STYLE.md C9), so that a
 * gap between simulated and measured figures points at the cost model, not at a second copy of the logic.
 */
public final class Policies {

    private Policies() {}

    /** The policy of an executor in a role; a role the schedule does not run is an error. */
    public static BatchingPolicy forRole(Schedule s, Role role) {
        return PolicyRegistry.policy(ScheduleCodec.planArgs(s, numStages(s), meanInputTokens(s.getTask())), role);
    }

    /**
     * Why an executor cannot run the schedule on this engine, or null: VLLM_V1 prefills prompts in chunks on top of
     * the KV cache of their earlier chunks, which needs a {@link ChunkedPrefillEngine} that can (a decoder-only model).
     */
    public static String refusal(Schedule s, StepEngine engine) {
        if (!PolicyRegistry.chunksPrefills(ScheduleCodec.policyOf(s))) {
            return null;
        }
        return engine instanceof ChunkedPrefillEngine c ? c.chunkedPrefillRefusal()
                : "VLLM_V1 prefills prompts in chunks, which this engine (" + engine.getClass().getSimpleName() + ") cannot do";
    }

    /** The role layout a schedule needs: separate encoder and decoder groups for WAA and DISAGGREGATED. */
    public static boolean splitsEncodeAndDecode(Schedule s) {
        return PolicyRegistry.splitsEncodeAndDecode(ScheduleCodec.policyOf(s));
    }

    /**
     * Pipeline stages of one device group of the schedule: numTpDevices / tpDegree stages of the TP degree, one per
     * remaining device (the layout {@code ExecutorEngines} builds the engine with).
     */
    public static int[] stageDegrees(Schedule s) {
        return stageDegrees(s, Role.FULL);
    }

    /**
     * The stages of the group that plays {@code role}: the whole group for FULL; under WAA and DISAGGREGATED the
     * schedule's encoder or decoder devices, TP devices going to the decoder group first, then to the encoder group,
     * as the simulator lays them out ({@code XSimulator.layout}).
     */
    public static int[] stageDegrees(Schedule s, Role role) {
        int tp = Math.max(1, s.getTpDegree());
        int numTp = Math.max(0, s.getNumTpDevices());
        if (role == Role.FULL) {
            return stages(Math.max(1, s.getNumDevices()), tp, numTp);
        }
        int numDecoder = Math.max(1, s.getNumDecoderDevices());
        int numEncoder = Math.max(1, s.getNumEncoderDevices());
        int tpDecoder = Math.min(numTp, numDecoder / tp * tp);
        int tpEncoder = Math.min(numTp - tpDecoder, numEncoder / tp * tp);
        return role == Role.DECODER ? stages(numDecoder, tp, tpDecoder) : stages(numEncoder, tp, tpEncoder);
    }

    private static int[] stages(int numDevices, int tp, int numTpDevices) {
        int numTpStages = Math.min(numDevices, numTpDevices) / tp;
        int numSingle = numDevices - numTpStages * tp;
        int[] degrees = new int[numTpStages + numSingle];
        for (int i = 0; i < degrees.length; i++) {
            degrees[i] = i < numTpStages ? tp : 1;
        }
        return degrees;
    }

    static int numStages(Schedule s) {
        return stageDegrees(s).length;
    }

    /** The planned task's mean input length, which sizes WAA's encoder workload (PAPER.md §7). */
    static double meanInputTokens(String task) {
        try {
            return Workloads.byName(task).meanInputTokens();
        } catch (IllegalArgumentException | NullPointerException unknownTask) {
            return DEFAULT_MEAN_INPUT_TOKENS;
        }
    }

    /** Mean input length assumed for a schedule whose task has no distribution file. */
    static final double DEFAULT_MEAN_INPUT_TOKENS = 256;
}
