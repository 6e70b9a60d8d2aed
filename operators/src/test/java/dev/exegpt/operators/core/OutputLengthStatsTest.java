package dev.exegpt.operators.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class OutputLengthStatsTest {

    @Test
    void shouldStartAtThePriorAndMoveTowardsWhatIsObserved() {
        OutputLengthStats s = OutputLengthStats.withPrior(100);
        assertEquals(100, s.expectedTokens(50), 1e-9);
        for (int i = 0; i < 20; i++) {
            s.observe(3, 40);            // bucket [2, 4): below its own threshold until 20 observations
        }
        // 20 prior pseudo-observations of 100 and 20 observations of 40.
        assertEquals(70, s.expectedTokens(500), 1e-9, "another input bucket sees the task's posterior mean");
        assertEquals((70 * 20 + 40 * 20) / 40.0, s.expectedTokens(3), 1e-9, "a bucket with 20 observations uses its own mean");
    }

    @Test
    void shouldFollowInputLengthWhereTheDataDoes() {
        OutputLengthStats s = OutputLengthStats.withPrior(30);
        for (int i = 0; i < 1000; i++) {
            int input = 8 << (i % 4);    // 8, 16, 32, 64 tokens
            s.observe(input, input);     // translation-like: output as long as input
        }
        assertEquals(8, s.expectedTokens(8), 2.0);
        assertEquals(64, s.expectedTokens(64), 4.0);
    }

    @Test
    void withoutAPriorShouldKnowOnlyWhatItObserved() {
        OutputLengthStats s = OutputLengthStats.withPrior(0);
        assertEquals(0, s.expectedTokens(10));
        s.observe(10, 12);
        s.observe(10, 18);
        assertEquals(15, s.expectedTokens(10), 1e-9);
    }
}
