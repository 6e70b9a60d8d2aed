package dev.exegpt.scheduler.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import dev.exegpt.scheduler.plan.ExecutorCore;

/** vLLM's two schedulers as policies: what one step takes, from the view they are shown. */
class VllmPoliciesTest {

    @Test
    void v0BatchesWaitingPromptsUpToTheBudgetAndTheCapElseDecodes() {
        BudgetedPromptBatching v0 = new BudgetedPromptBatching(4, 100);
        int[] head = {30, 30, 30, 30, 30};
        assertEquals(StepPlan.encode(3), v0.next(new ExecutorView(5, 0, 0, 0, head)));       // 90 tokens; a 4th would be 120
        assertEquals(StepPlan.encode(1), v0.next(new ExecutorView(5, 3, 0, 0, head)));       // the cap: 3 running + 1
        assertEquals(StepPlan.DECODE, v0.next(new ExecutorView(5, 4, 0, 0, head)));         // full: decode
        assertEquals(StepPlan.encode(1), v0.next(new ExecutorView(1, 0, 0, 0, new int[] {500})));   // one always fits
        assertEquals(StepPlan.IDLE, v0.next(new ExecutorView(0, 0, 0, 0)));
    }

    @Test
    void v1SpendsTheBudgetOnDecodesFirstThenOnChunksUnderWayThenOnNewPrompts() {
        ChunkedPrefillBatching v1 = new ChunkedPrefillBatching(16, 64);
        // 10 decoding, one prompt with 50 tokens left, waiting prompts of 20 and 40: 54 tokens left after the decodes.
        StepPlan p = v1.next(new ExecutorView(2, 10, 0, 0, new int[] {20, 40}, new int[] {50}));
        assertEquals(StepPlan.Kind.MIXED, p.kind());
        assertArrayEquals(new int[] {50, 4}, p.chunkTokens());
        assertEquals(1, p.numToEncode());
        // The cap: 7 running (6 decoding + 1 prefilling) admits one more.
        StepPlan capped = new ChunkedPrefillBatching(8, 64).next(new ExecutorView(2, 6, 0, 0, new int[] {5, 5}, new int[] {3}));
        assertArrayEquals(new int[] {3, 5}, capped.chunkTokens());
        // Budget spent on decodes: a plain decode step.
        assertEquals(StepPlan.DECODE, new ChunkedPrefillBatching(64, 64).next(new ExecutorView(3, 64, 0, 0, new int[] {5, 5, 5})));
    }

    /** The core carries a prompt across steps chunk by chunk, and it decodes from the step after its last chunk. */
    @Test
    void theCoreMovesAPromptToTheActiveSetAfterItsLastChunk() {
        ExecutorCore<int[]> core = new ExecutorCore<>(new ChunkedPrefillBatching(4, 16), r -> r[0], r -> false, 16);
        core.enqueue(new int[] {40});
        List<Integer> chunks = new ArrayList<>();
        for (int step = 0; step < 3; step++) {
            StepPlan p = core.decide(0, 0);
            assertEquals(StepPlan.Kind.MIXED, p.kind());
            List<ExecutorCore.Chunk<int[]>> taken = core.takeChunks();
            chunks.add(taken.get(0).numTokens());
            assertEquals(step == 2, taken.get(0).completesPrompt());
            core.finishChunks(taken);
        }
        assertEquals(List.of(16, 16, 8), chunks);
        assertEquals(0, core.numPrefilling());
        assertEquals(1, core.numActive());
        assertEquals(StepPlan.DECODE, core.decide(0, 0));
    }

    @Test
    void shortFormsNameEveryOneDevicePolicy() {
        assertEquals(dev.exegpt.scheduler.plan.Candidate.vllm(dev.exegpt.scheduler.plan.Policy.VLLM_V0, 1, 16, 2048, 1, 0),
                dev.exegpt.scheduler.plan.Candidate.parse("vllm-v0:16:2048"));
        assertEquals(2048, dev.exegpt.scheduler.plan.Candidate.parse("VLLM-V1:64:2048").maxNumBatchedTokens());
        assertEquals(dev.exegpt.scheduler.plan.Policy.CONTINUOUS, dev.exegpt.scheduler.plan.Candidate.parse("orca").policy());
        assertEquals(dev.exegpt.scheduler.plan.Policy.CONTINUOUS, dev.exegpt.scheduler.plan.Policy.parse("orca"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> dev.exegpt.scheduler.plan.Candidate.parse("vllm-v1:64"));
        assertTrue(e.getMessage().contains("vllm-v1:SEQS:TOKENS"), e.getMessage());
        // vLLM requires the budget to hold the cap.
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> dev.exegpt.scheduler.plan.Candidate.parse("vllm-v1:64:32"));
    }
}
