package dev.exegpt.scheduler.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.scheduler.workload.Workloads;

/** Data-parallel replicas of a plan: what scales, what each part carries, and which saturates first. */
class ReplicaPlanTest {

    private static final ModelSpec OPT_13B = ModelSpecs.byName("opt-13b");
    private static final Workload S = Workloads.byName("S");

    private static Estimate estimate(Candidate c, double seqPerSecond, int decodeBatch, int encoderDevices) {
        return new Estimate(c, true, "", 1_000, seqPerSecond, seqPerSecond * 100, decodeBatch, 100, encoderDevices,
                encoderDevices > 0 ? c.numDevices() - encoderDevices : 0, 10, 5, 1L << 30, 0.9);
    }

    @Test
    void throughputShouldScaleByTheReplicasAndPartitionsShouldSpreadOverThem() {
        Estimate rra = estimate(Candidate.rra(8, 16, 4, 8, 8), 40, 64, 0);
        ReplicaPlan plan = new ReplicaPlan(rra, OPT_13B, S, 8, 125, 128, ReplicaPlan.Limits.DEFAULTS);
        assertEquals(1000, plan.numDevices());
        assertEquals(5000, plan.requestsPerSecond(), 1e-9);
        assertEquals(500_000, plan.tokensPerSecond(), 1e-9);
        assertEquals(1.024, plan.partitionsPerReplica(), 1e-12);
        double requestBytes = 300 + 8 * S.meanInputTokens();
        double resultBytes = 300 + 8 * S.meanOutputTokens();
        assertEquals(5000.0 / 128 * Math.max(requestBytes, resultBytes), plan.partitionBytesPerSecond(), 1e-6);
        assertFalse(plan.handsOverKv(), "RRA keeps the KV where it was made");
        assertEquals(0, plan.kvHandoffBytesPerRequest());
    }

    @Test
    void waaShouldHandOverEveryDecoderLayersPromptKvAcrossTheNic() {
        Estimate waa = estimate(new Candidate(Policy.WAA_C, 8, 16, 1, 8, 1, 0, 2), 40, 64, 2);
        ReplicaPlan plan = new ReplicaPlan(waa, OPT_13B, S, 8, 125, 128, ReplicaPlan.Limits.DEFAULTS);
        double perRequest = 40.0 * 2 * 5120 * 2 * S.meanInputTokens();        // 40 layers x K and V x 5120 x FP16 x tokens
        assertEquals(perRequest, plan.kvHandoffBytesPerRequest(), 1e-6);
        assertEquals(40 * perRequest, plan.nicBytesPerSecond(), 1e-3, "one 8-device replica per 8-device node");
        ReplicaPlan small = new ReplicaPlan(estimate(new Candidate(Policy.WAA_C, 2, 16, 1, 8, 1, 0, 1), 40, 64, 1), OPT_13B, S,
                8, 500, 512, ReplicaPlan.Limits.DEFAULTS);
        assertEquals(4 * 40 * perRequest, small.nicBytesPerSecond(), 1e-3, "four 2-device replicas share a node's NIC");
    }

    @Test
    void checkpointShouldHoldTheInFlightRequestsAndTheRememberedIds() {
        Estimate rra = estimate(Candidate.rra(8, 16, 4, 8, 8), 40, 64, 0);
        ReplicaPlan plan = new ReplicaPlan(rra, OPT_13B, S, 8, 125, 128, ReplicaPlan.Limits.DEFAULTS);
        assertEquals(2 * 64 + 4 * 16, plan.inFlightPerReplica(), "the job's async capacity formula");
        assertEquals(125.0 * 192 * plan.requestBytes(), plan.inFlightStateBytes(), 1e-6);
        assertEquals(5000.0 * 3600 * 100, plan.dedupStateBytes(), 1e-3, "an hour of ids at 100 B each");
        assertEquals((plan.inFlightStateBytes() + plan.dedupStateBytes()) / 2.0, plan.checkpointBytesPerSecond(), 1e-3);
    }

    @Test
    void theTightestPartShouldSaturateFirstAndEachLimitShouldBeTheRateWhereItsLoadMeetsIt() {
        Estimate waa = estimate(new Candidate(Policy.WAA_C, 8, 16, 1, 8, 1, 0, 2), 40, 64, 2);
        ReplicaPlan plan = new ReplicaPlan(waa, OPT_13B, S, 8, 125, 128, ReplicaPlan.Limits.DEFAULTS);
        List<ReplicaPlan.Load> loads = plan.loads();
        for (int i = 1; i < loads.size(); i++) {
            assertTrue(loads.get(i - 1).saturatesAtRequestsPerSecond() <= loads.get(i).saturatesAtRequestsPerSecond());
        }
        for (ReplicaPlan.Load l : loads) {
            if (l.part().startsWith("Kafka") || l.part().startsWith("TaskManager")) {
                assertEquals(plan.requestsPerSecond() / l.utilisation(), l.saturatesAtRequestsPerSecond(), 1e-6, l.part());
            }
        }
        assertEquals(loads.get(0), plan.firstToSaturate());
        ReplicaPlan.Limits slowNic = new ReplicaPlan.Limits(10e6, 1e9, 2e9, 2_000, 3_600_000, 100, 8, 8, 300);
        assertTrue(new ReplicaPlan(waa, OPT_13B, S, 8, 125, 128, slowNic).firstToSaturate().part().startsWith("TaskManager NIC"));
        ReplicaPlan.Limits plenty = new ReplicaPlan.Limits(1e12, 1e15, 1e15, 2_000, 3_600_000, 100, 8, 8, 300);
        assertTrue(new ReplicaPlan(waa, OPT_13B, S, 8, 125, 128, plenty).firstToSaturate().part().startsWith("GPUs"));
    }

    @Test
    void shouldRefuseNonsense() {
        Estimate rra = estimate(Candidate.rra(8, 16, 4, 8, 8), 40, 64, 0);
        assertThrows(IllegalArgumentException.class, () -> new ReplicaPlan(rra, OPT_13B, S, 8, 0, 128, ReplicaPlan.Limits.DEFAULTS));
        assertThrows(IllegalArgumentException.class, () -> new ReplicaPlan(rra, OPT_13B, S, 8, 1, 0, ReplicaPlan.Limits.DEFAULTS));
        assertThrows(IllegalArgumentException.class, () -> new ReplicaPlan(Estimate.infeasible(rra.candidate(), "too slow", 100),
                OPT_13B, S, 8, 1, 1, ReplicaPlan.Limits.DEFAULTS));
    }
}
