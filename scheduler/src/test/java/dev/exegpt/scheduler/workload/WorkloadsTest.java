package dev.exegpt.scheduler.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import org.junit.jupiter.api.Test;

class WorkloadsTest {

    private static RandomGenerator rng() {
        return RandomGeneratorFactory.of("L64X128MixRandom").create(42);
    }

    @Test
    void everyListedTaskLoadsFromTheClassPathAndSamplesWithinItsSupport() {
        for (String name : Workloads.names()) {
            Workload w = Workloads.byName(name);
            RandomGenerator r = rng();
            for (int i = 0; i < 2000; i++) {
                LengthSample s = w.sample(r);
                assertTrue(s.numInputTokens() >= 1 && s.numInputTokens() <= w.input().max(), name);
                assertTrue(s.numOutputTokens() >= 1 && s.numOutputTokens() <= w.output().max(), name);
            }
            assertEquals(1.0, Arrays.stream(w.output().pmf()).sum(), 1e-6, name);
        }
    }

    @Test
    void paperTasksCarryTable3CapsAndP99() {
        Workload s = Workloads.byName("s");
        assertEquals(512, s.input().max());
        assertEquals(80, s.output().max());
        assertEquals(63, s.boundOutputTokens());
        assertEquals(292, Workloads.byName("T").boundOutputTokens());
        assertEquals(579, Workloads.byName("C2").boundOutputTokens());
        // PAPER.md §12.3: a normal truncated at 0 (and capped) has p99 near 62.3 for task S's output.
        assertEquals(62.3, s.output().quantile(0.99), 1.5);
        // The truncated mean of N(32, 13) on [1, 80] is just above 32.
        assertEquals(32.1, s.meanOutputTokens(), 0.5);
    }

    @Test
    void sampleMeansMatchTheDistributionAndTracesMatchTheirPublishedMeans() {
        Workload conv = Workloads.byName("conversation");
        RandomGenerator r = rng();
        double in = 0, out = 0;
        int n = 50_000;
        for (int i = 0; i < n; i++) {
            LengthSample s = conv.sample(r);
            in += s.numInputTokens();
            out += s.numOutputTokens();
        }
        // ../shared/data/README.md: conversation input mean 1154.7, output mean 211.1.
        assertEquals(1154.7, in / n, 1154.7 * 0.05);
        assertEquals(211.1, out / n, 211.1 * 0.05);
        assertEquals(601, conv.boundOutputTokens(), 15);
    }

    @Test
    void translationLengthsAreCorrelatedAndOthersAreNot() {
        assertTrue(rankCorrelation(Workloads.byName("wmt")) > 0.7);
        assertTrue(Math.abs(rankCorrelation(Workloads.byName("S"))) < 0.05);
    }

    private static double rankCorrelation(Workload w) {
        RandomGenerator r = rng();
        int n = 20_000;
        double[] a = new double[n], b = new double[n];
        for (int i = 0; i < n; i++) {
            LengthSample s = w.sample(r);
            a[i] = s.numInputTokens() + r.nextDouble() * 1e-3;
            b[i] = s.numOutputTokens() + r.nextDouble() * 1e-3;
        }
        return pearson(ranks(a), ranks(b));
    }

    private static double[] ranks(double[] x) {
        Integer[] idx = new Integer[x.length];
        for (int i = 0; i < x.length; i++) idx[i] = i;
        Arrays.sort(idx, (i, j) -> Double.compare(x[i], x[j]));
        double[] rk = new double[x.length];
        for (int i = 0; i < x.length; i++) rk[idx[i]] = i;
        return rk;
    }

    private static double pearson(double[] a, double[] b) {
        double ma = Arrays.stream(a).average().orElseThrow(), mb = Arrays.stream(b).average().orElseThrow();
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }

    @Test
    void unknownTaskNamesTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Workloads.byName("nope"));
        assertTrue(e.getMessage().contains("C1"), e.getMessage());
    }

    @Test
    void poissonArrivalsHaveTheRequestedRate() {
        double[] t = new ArrivalProcess.Poisson(5.5).arrivalsMs(20_000, rng());
        assertEquals(5.5, 20_000 / (t[t.length - 1] / 1000), 0.2);
    }

    @Test
    void aBatchFileIsAWorkloadOfItsOwnLengthsWithItsP99CapAsTheBound() {
        int[] inputs = new int[200], outputs = new int[200];
        for (int i = 0; i < 200; i++) {
            inputs[i] = 10 + i;          // 10..209
            outputs[i] = i < 196 ? 32 : 128;
        }
        Workload w = Workloads.fromSamples("docs.jsonl", inputs, outputs);
        org.junit.jupiter.api.Assertions.assertEquals(209, w.input().max());
        org.junit.jupiter.api.Assertions.assertEquals(109.5, w.meanInputTokens(), 1.0);
        org.junit.jupiter.api.Assertions.assertEquals(128, w.maxOutputTokens());
        org.junit.jupiter.api.Assertions.assertEquals(128, w.boundOutputTokens(), "2% of the caps are 128: the p99 is");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Workloads.fromSamples("empty", new int[0], new int[0]));
    }
}
