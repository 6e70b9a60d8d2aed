package dev.exegpt.scheduler.cost.fit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The clamp and the robust centres a fit is made of. */
class ProfileScalingTest {

    @Test
    void aRatioIsHeldWithinTheClampAndUnknownIsOne() {
        assertEquals(1, ProfileScaling.clamp(Double.NaN));
        assertEquals(ProfileScaling.MAX_FACTOR, ProfileScaling.clamp(10));
        assertEquals(ProfileScaling.MIN_FACTOR, ProfileScaling.clamp(0.1));
        assertEquals(1.7, ProfileScaling.clamp(1.7));
    }

    @Test
    void theTrimmedMeanIgnoresTheTailsThatAPauseOrABurstMakes() {
        double[] steps = {1.0, 1.1, 0.9, 1.0, 9.0, 1.0, 0.95, 1.05, 1.0, 0.05};
        assertTrue(ProfileScaling.trimmedMean(steps, 0) > 1.6, "the plain mean is dragged by one 9x step");
        assertEquals(8.0 / 8, ProfileScaling.trimmedMean(steps, 0.1), 1e-9);      // 0.9 .. 1.1
        assertEquals(1.0, ProfileScaling.median(steps), 1e-9);
        assertEquals(2.5, ProfileScaling.median(new double[] {4, 1, 2, 3}), 1e-9);
        assertTrue(Double.isNaN(ProfileScaling.trimmedMean(new double[0], 0.2)));
        assertThrows(IllegalArgumentException.class, () -> ProfileScaling.trimmedMean(steps, 0.7));
    }
}
