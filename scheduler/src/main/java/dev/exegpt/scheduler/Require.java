package dev.exegpt.scheduler;

/** The pure modules' precondition helper (STYLE.md C1): the message names the field, its value and the expectation. */
public final class Require {
    private Require() {}

    public static void require(boolean condition, String format, Object... args) {
        if (!condition) {
            throw new IllegalArgumentException(format.formatted(args));
        }
    }
}
