package dev.exegpt.scheduler.cost.fit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import dev.exegpt.scheduler.cost.Phase;

class SlidingFitTest {

    @Test
    void aPhaseKeepsItsFactorUntilItsWindowHoldsEnoughSteps() {
        SlidingFit fit = new SlidingFit(10, 3, 60_000, 0.2, 0.5, 3);
        fit.add(Phase.DECODE, 1, 20, 10);
        fit.add(Phase.DECODE, 2, 20, 10);
        assertEquals(1, fit.refit(Phase.DECODE));
        fit.add(Phase.DECODE, 3, 20, 10);
        assertEquals(2, fit.refit(Phase.DECODE), 1e-12);
        assertEquals(1, fit.refit(Phase.ENCODE), "the other phase is its own");
    }

    @Test
    void theTrimmedMeanIgnoresAFewOutliersAndTheFactorIsHeld() {
        SlidingFit fit = new SlidingFit(10, 5, 60_000, 0.2, 0.5, 3);
        double[] ratios = {1.2, 1.1, 1.3, 9.0, 1.2, 0.01, 1.2, 1.1, 1.3, 1.2};
        for (int i = 0; i < ratios.length; i++) fit.add(Phase.ENCODE, i, ratios[i] * 10, 10);
        // the middle 6 of 10 (two cut at each end: 0.01, 1.1 and 9.0, 1.3)
        assertEquals((1.1 + 1.2 + 1.2 + 1.2 + 1.2 + 1.3) / 6, fit.refit(Phase.ENCODE), 1e-12);
        for (int i = 0; i < 10; i++) fit.add(Phase.ENCODE, 10 + i, 100, 10);
        assertEquals(3, fit.refit(Phase.ENCODE), "held at the highest factor");
        for (int i = 0; i < 10; i++) fit.add(Phase.ENCODE, 20 + i, 1, 10);
        assertEquals(0.5, fit.refit(Phase.ENCODE), "held at the lowest factor");
    }

    @Test
    void oldStepsLeaveTheWindowByCountAndByAgeButNeverBelowTheMinimum() {
        SlidingFit fit = new SlidingFit(4, 2, 1_000, 0, 0.1, 10);
        for (int i = 0; i < 6; i++) fit.add(Phase.DECODE, i, 10, 10);
        assertEquals(4, fit.size(Phase.DECODE), "by count");
        fit.add(Phase.DECODE, 5_000, 30, 10);
        assertEquals(2, fit.size(Phase.DECODE), "by age, down to minSteps: the newest old step stays");
        assertEquals((1 + 3) / 2.0, fit.refit(Phase.DECODE), 1e-12);
        fit.add(Phase.DECODE, 5_001, 30, 0);
        fit.add(Phase.DECODE, 5_002, 30, Double.POSITIVE_INFINITY);
        assertEquals(2, fit.size(Phase.DECODE), "an unpriced step is not a measurement");
    }

    @Test
    void impossibleSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SlidingFit(2, 3, 1, 0.2, 0.5, 3));
        assertThrows(IllegalArgumentException.class, () -> new SlidingFit(4, 2, 1, 0.6, 0.5, 3));
        assertThrows(IllegalArgumentException.class, () -> new SlidingFit(4, 2, 1, 0.2, 2, 3));
    }
}
