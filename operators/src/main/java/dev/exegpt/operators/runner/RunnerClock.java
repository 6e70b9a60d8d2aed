package dev.exegpt.operators.runner;

/** Where an executor reads the time, epoch milliseconds: the {@link WallClock}, or a test's virtual clock. */
public interface RunnerClock {
    double nowEpochMs();
}
