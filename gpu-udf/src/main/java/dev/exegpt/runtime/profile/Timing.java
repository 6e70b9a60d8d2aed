package dev.exegpt.runtime.profile;

import java.util.Arrays;

/** Warm-up, repeats, and the median, min and max of the repeats, in ms. */
record Timing(double medianMs, double minMs, double maxMs, int numRepeats) {

    /** A round whose slowest repeat exceeds its fastest by more than this factor was disturbed (see {@link #measure}). */
    static final double UNSTEADY = 1.5;
    /** Rounds measured at most for one entry. */
    static final int MAX_ROUNDS = 3;

    interface Body {
        void run() throws Exception;
    }

    /** A body that says how long it took, in ms (a GPU's events time the device's work, not the host's wait). */
    interface TimedBody {
        double runMs() throws Exception;
    }

    /**
     * Warm-up runs, then a round of timed repeats. On two cores a kernel's two threads share them with the JIT
     * compiler and the garbage collector, so a round can be slowed for most of its repeats (seen: T5-small, one
     * layer over 4 x 256 tokens, repeats of 44, 135, 140, 141 and 146 ms; the engine runs that step in ~45 ms once
     * warm): when a round is unsteady (max over min above {@link #UNSTEADY}) it is measured again, up to
     * {@link #MAX_ROUNDS} rounds, and the round with the lowest median is kept.
     */
    static Timing measure(int warmups, int repeats, Body body) {
        return measureTimed(warmups, repeats, () -> {
            long t0 = System.nanoTime();
            body.run();
            return (System.nanoTime() - t0) / 1e6;
        });
    }

    /** {@link #measure} of a body that times itself. */
    static Timing measureTimed(int warmups, int repeats, TimedBody body) {
        try {
            for (int i = 0; i < warmups; i++) body.runMs();
            Timing best = null;
            for (int round = 0; round < MAX_ROUNDS; round++) {
                Timing t = round(repeats, body);
                if (best == null || t.medianMs < best.medianMs) best = t;
                if (t.maxMs <= UNSTEADY * t.minMs) break;
            }
            return best;
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("measurement failed: " + e.getMessage(), e);
        }
    }

    private static Timing round(int repeats, TimedBody body) throws Exception {
        double[] ms = new double[repeats];
        for (int i = 0; i < repeats; i++) ms[i] = body.runMs();
        Arrays.sort(ms);
        double median = repeats % 2 == 1 ? ms[repeats / 2] : (ms[repeats / 2 - 1] + ms[repeats / 2]) / 2;
        return new Timing(median, ms[0], ms[repeats - 1], repeats);
    }
}
