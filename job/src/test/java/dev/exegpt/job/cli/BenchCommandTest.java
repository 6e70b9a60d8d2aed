package dev.exegpt.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;
import dev.exegpt.job.local.LocalRig;

/** Wrong flags of {@code exegpt bench} end in one line that says what is expected, before anything is made or started. */
class BenchCommandTest {

    @Test
    void badFlagsAreUsageErrors() {
        StdStreams arrival = StdStreams.run("bench", "--arrival", "burst");
        assertEquals(2, arrival.exitCode());
        assertEquals("bench: --arrival burst: expected bulk or poisson", arrival.err().strip());

        StdStreams rateWithBulk = StdStreams.run("bench", "--rate", "3");
        assertEquals(2, rateWithBulk.exitCode());
        assertTrue(rateWithBulk.err().contains("--rate 3 needs --arrival poisson"), rateWithBulk.err());

        StdStreams badRate = StdStreams.run("bench", "--arrival", "poisson", "--rate", "fast");
        assertTrue(badRate.err().contains("--rate fast: expected a positive number of requests/s, or auto"), badRate.err());

        StdStreams few = StdStreams.run("bench", "--requests", "2");
        assertTrue(few.err().contains("--requests 2: at least 5 per policy and round"), few.err());

        StdStreams rounds = StdStreams.run("bench", "--quick", "--rounds", "0");
        assertTrue(rounds.err().contains("--rounds 0: at least 1"), rounds.err());

        StdStreams sweepPoisson = StdStreams.run("bench", "--sweep", "--arrival", "poisson");
        assertEquals(2, sweepPoisson.exitCode());
        assertEquals("bench: --sweep measures at saturation, as the paper does: expected --arrival bulk", sweepPoisson.err().strip());
        StdStreams sweepSlo = StdStreams.run("bench", "--sweep", "--slo-ms", "1500");
        assertEquals("bench: --slo-ms 1500 with --sweep: the sweep sets its own bounds; expected no --slo-ms", sweepSlo.err().strip());

        StdStreams python = StdStreams.run("bench", "--transformers", "/no/such/python");
        assertEquals(2, python.exitCode());
        assertEquals("bench: --transformers /no/such/python: expected auto, off or the path of a Python executable (with torch"
                + " and transformers)", python.err().strip());

        int cores = Runtime.getRuntime().availableProcessors();
        StdStreams tooMany = StdStreams.run("bench", "--devices", Integer.toString(cores + 1));
        assertEquals(2, tooMany.exitCode());
        assertEquals("bench: --devices " + (cores + 1) + ": this machine has " + cores + " cores, and a CPU device is at least one core;"
                + " expected 1.." + cores + " or auto", tooMany.err().strip());
        StdStreams word = StdStreams.run("demo", "--devices", "many");
        assertEquals(2, word.exitCode());
        assertEquals("demo: --devices many: expected a number of devices (1.." + cores + ") or auto", word.err().strip());
    }

    @Test
    void devicesAreOneWithEveryCoreOrOnePerCoreAndPoliciesFollowThem() {
        int cores = Runtime.getRuntime().availableProcessors();
        assertEquals(cores == 1 ? List.of(1) : List.of(1, cores), LocalRig.deviceCounts());
        assertEquals(List.of(Policy.RRA), LocalRig.policiesFor(1));
        assertEquals(List.of(Policy.RRA, Policy.WAA_C, Policy.WAA_M), LocalRig.policiesFor(2));
        assertEquals(Math.max(1, cores / 2), LocalRig.threadsPerDevice(2));
    }

    @Test
    void plannedLayoutNamesTheGroupsAsTheResultsDo() {
        Schedule.Builder s = Schedule.newBuilder().setScheduleId("x").setVersion(1).setTask("S").setEncodeBatchSize(2)
                .setDecodeBatchSize(8).setDecodeIterationsPerEncode(4);
        assertEquals("RRA[1]", LocalRig.plannedLayout(s.setPolicy(SchedulePolicy.RRA).setNumDevices(1).build()));
        assertEquals("RRA[1, 1]", LocalRig.plannedLayout(s.setPolicy(SchedulePolicy.RRA).setNumDevices(2).build()));
        assertEquals("RRA[2]", LocalRig.plannedLayout(s.setPolicy(SchedulePolicy.RRA).setNumDevices(2).setTpDegree(2).setNumTpDevices(2).build()));
        assertEquals("enc RRA[1] + dec RRA[1]", LocalRig.plannedLayout(s.setPolicy(SchedulePolicy.WAA_C).setNumDevices(2).setTpDegree(1)
                .setNumTpDevices(0).setNumEncoderDevices(1).setNumDecoderDevices(1).build()));
        assertEquals("enc RRA[1] + dec RRA[1, 1]", LocalRig.plannedLayout(s.setPolicy(SchedulePolicy.WAA_M).setNumDevices(3)
                .setNumEncoderDevices(1).setNumDecoderDevices(2).build()));
    }
}
