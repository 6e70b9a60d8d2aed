package dev.exegpt.scheduler.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.scheduler.workload.LengthDistribution;
import dev.exegpt.scheduler.workload.Workloads;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The input lengths over which XSimulator averages an encode step's cost (Jensen: the cost is convex in the length). */
class InputExpectationTest {

    @Test
    void pointsKeepTheMeanExactlyAndSpanTheDistribution() {
        for (String task : Workloads.NAMES) {
            LengthDistribution in = Workloads.byName(task).input();
            int mean = (int) Math.round(in.mean());
            int[] points = XSimulator.inputPoints(in.pmf(), XSimulator.INPUT_POINTS, mean);
            assertEquals((long) XSimulator.INPUT_POINTS * mean, Arrays.stream(points).asLongStream().sum(),
                    task + ": the points average to the mean the simulator uses elsewhere, so linear costs do not move");
            for (int i = 1; i < points.length; i++) {
                assertTrue(points[i] >= points[i - 1], task + ": slices in order " + Arrays.toString(points));
            }
            assertTrue(points[0] >= 1 && points[points.length - 1] <= in.max(), task + ": within 1..max " + Arrays.toString(points));
        }
    }

    @Test
    void aQuadraticCostAveragesToTheSecondMomentNotTheSquaredMean() {
        LengthDistribution in = Workloads.byName("S").input();     // truncated normal, mean 256, std 252, max 512
        double[] pmf = in.pmf();
        double m2 = 0;
        for (int k = 1; k < pmf.length; k++) m2 += (double) k * k * pmf[k];
        int mean = (int) Math.round(in.mean());
        int[] points = XSimulator.inputPoints(pmf, XSimulator.INPUT_POINTS, mean);
        double averaged = Arrays.stream(points).mapToDouble(l -> (double) l * l).average().orElseThrow();
        System.out.printf("task S: E[L^2] %.0f, over %d points %.0f, mean^2 %d%n", m2, points.length, averaged, mean * mean);
        assertEquals(m2, averaged, 0.02 * m2, "16 slices capture the second moment within 2%");
        assertTrue(averaged > 1.2 * mean * mean, "the spread of S's inputs makes E[L^2] well above mean^2");
    }

    @Test
    void aSingleLengthIsItsOwnPoint() {
        double[] pmf = new double[101];
        pmf[100] = 1;
        int[] points = XSimulator.inputPoints(pmf, XSimulator.INPUT_POINTS, 100);
        assertTrue(Arrays.stream(points).allMatch(p -> p == 100), Arrays.toString(points));
    }
}
