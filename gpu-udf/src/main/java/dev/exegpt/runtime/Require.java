package dev.exegpt.runtime;

/** Argument checks with formatted messages that name the field, the value and the expectation (STYLE.md C14). */
public final class Require {
    private Require() {}

    /** Throws {@link IllegalArgumentException} with {@code String.format(message, args)} unless {@code condition}. */
    public static void require(boolean condition, String message, Object... args) {
        if (!condition) {
            throw new IllegalArgumentException(String.format(message, args));
        }
    }
}
