package dev.exegpt.runtime.profile;

import java.util.Arrays;

/** Warm-up, repeats, and the median, min and max of the repeats, in ms. */
record Timing(double medianMs, double minMs, double maxMs, int numRepeats) {

    interface Body {
        void run() throws Exception;
    }

    static Timing measure(int warmups, int repeats, Body body) {
        try {
            for (int i = 0; i < warmups; i++) body.run();
            double[] ms = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                body.run();
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(ms);
            double median = repeats % 2 == 1 ? ms[repeats / 2] : (ms[repeats / 2 - 1] + ms[repeats / 2]) / 2;
            return new Timing(median, ms[0], ms[repeats - 1], repeats);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("measurement failed: " + e.getMessage(), e);
        }
    }
}
