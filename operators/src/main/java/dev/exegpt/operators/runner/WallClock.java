package dev.exegpt.operators.runner;

/**
 * Epoch milliseconds with sub-millisecond resolution: the wall clock read once, advanced by the monotonic
 * nanosecond clock, so that step times are precise and comparable with Kafka record timestamps.
 */
public final class WallClock implements RunnerClock {

    private final long baseEpochMs = System.currentTimeMillis();
    private final long baseNanos = System.nanoTime();

    @Override
    public double nowEpochMs() {
        return baseEpochMs + (System.nanoTime() - baseNanos) / 1e6;
    }
}
