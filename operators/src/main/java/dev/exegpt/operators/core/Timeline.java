package dev.exegpt.operators.core;

/**
 * When one request passed each point of its life, ms since the Unix epoch (fractions kept: the engine measures in
 * nanoseconds). The origin of every reported latency is the Kafka record timestamp, {@code arrivedEpochMs}.
 *
 * @param encodeStartEpochMs the encode (or prefill) step that included the request began
 * @param encodeEndEpochMs   that step ended
 * @param firstTokenEpochMs  the first output token was produced (at encodeEnd for a decoder-only prefill)
 * @param lastTokenEpochMs   the last output token was produced
 */
public record Timeline(double encodeStartEpochMs, double encodeEndEpochMs, double firstTokenEpochMs,
                       double lastTokenEpochMs) {

    public Timeline {
        if (!(encodeStartEpochMs <= encodeEndEpochMs && encodeEndEpochMs <= firstTokenEpochMs + 1e-9
                && firstTokenEpochMs <= lastTokenEpochMs)) {
            throw new IllegalArgumentException("timeline must be ordered: encodeStart " + encodeStartEpochMs + " <= encodeEnd "
                    + encodeEndEpochMs + " <= firstToken " + firstTokenEpochMs + " <= lastToken " + lastTokenEpochMs);
        }
    }
}
