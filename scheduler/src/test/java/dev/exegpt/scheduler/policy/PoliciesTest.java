package dev.exegpt.scheduler.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.exegpt.scheduler.workload.ArrivalProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PoliciesTest {

    @Test
    void waaEncoderKeepsItsTokenWorkloadNearThePlan() {
        BatchingPolicy enc = WorkloadAwareAllocation.encoderSide(4, 100, 100);   // budget 400 tokens (+10%)
        int[] shortInputs = {50, 50, 50, 50, 50, 50, 50, 50, 50, 50};
        int[] longInputs = {300, 300, 300, 300};
        assertEquals(8, enc.next(new ExecutorView(10, 0, 100, 0, shortInputs)).numToEncode());   // capped at 2 x B_E
        assertEquals(1, enc.next(new ExecutorView(4, 0, 100, 0, longInputs)).numToEncode());
        // A starving decoder (backlog below 90% of B_D) raises the budget by half: 600 tokens -> 2 long inputs.
        assertEquals(2, enc.next(new ExecutorView(4, 0, 10, 0, longInputs)).numToEncode());
        // A decoder above 110% of B_D holds the encoder back.
        assertEquals(StepPlan.Kind.IDLE, enc.next(new ExecutorView(4, 0, 111, 0, longInputs)).kind());
    }

    @Test
    void rraEncodesEveryNdIterationsAndStaticWaitsForItsWholeBatch() {
        RoundRobinAllocation rra = new RoundRobinAllocation(3, 2);
        StepPlan first = rra.next(new ExecutorView(10, 0, 0, 0));
        assertEquals(StepPlan.encode(3), first);
        rra.onStepEnd(first, 0);
        for (int i = 0; i < 2; i++) {
            StepPlan p = rra.next(new ExecutorView(7, 3, 0, 0));
            assertEquals(StepPlan.Kind.DECODE, p.kind());
            rra.onStepEnd(p, 0);
        }
        assertEquals(StepPlan.encode(3), rra.next(new ExecutorView(7, 3, 0, 0)));
        StaticBatching st = new StaticBatching(4);
        assertEquals(StepPlan.Kind.DECODE, st.next(new ExecutorView(10, 1, 0, 0)).kind());
        assertEquals(StepPlan.encode(4), st.next(new ExecutorView(10, 0, 0, 0)));
    }

    @Test
    void azureTraceTimestampsReplayAsOffsets(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("trace.csv");
        Files.writeString(csv, "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                + "2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,396,109\n2023-11-16 18:15:51.0000000,10,1\n");
        double[] t = ArrivalProcess.TraceReplay.fromAzureCsv(csv).arrivalsMs(5, null);
        assertEquals(0, t[0], 1e-6);
        assertEquals(4314.579, t[1], 1e-3);
        assertEquals(4319.41, t[2], 1e-3);
        assertEquals(4320.41, t[3], 1e-3);   // cycles with the trace's span (+1 ms)
    }
}
