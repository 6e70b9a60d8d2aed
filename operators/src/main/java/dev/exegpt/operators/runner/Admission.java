package dev.exegpt.operators.runner;

import java.util.Locale;

import dev.exegpt.operators.core.ValidRequest;

/**
 * Admission control at the batch boundary: before a request is encoded, predict when it would finish (now + encode
 * step + one decode iteration per remaining output token, from running averages of this executor's measured steps)
 * and, in {@link Mode#REJECT_LATE}, answer at once with a missed-SLO verdict when that is past its deadline (the
 * earlier of its {@code deadlineEpochMs} and arrival + SLO), instead of spending device time on a request that would
 * miss anyway. Until a step has been measured nothing is refused. Touched by the engine thread only.
 */
public final class Admission {

    /** {@code off}: run every request (the paper's behaviour); {@code reject-late}: refuse what cannot finish in time. */
    public enum Mode {
        OFF, REJECT_LATE;

        /** Parses {@code off} or {@code reject-late}; the message names what is expected. */
        public static Mode parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "off" -> OFF;
                case "reject-late" -> REJECT_LATE;
                default -> throw new IllegalArgumentException("admission mode '" + text + "': expected off or reject-late");
            };
        }

        public String text() {
            return this == OFF ? "off" : "reject-late";
        }
    }

    /** Weight of the newest measurement in the running averages. */
    static final double SMOOTHING = 0.2;

    private final Mode mode;
    private double encodeMsPerStep = Double.NaN;
    private double decodeMsPerIteration = Double.NaN;
    private volatile long numRefused;

    public Admission(Mode mode) {
        this.mode = mode;
    }

    public Mode mode() {
        return mode;
    }

    /** Hears how long an encode step took, ms. */
    public void observeEncode(double ms) {
        encodeMsPerStep = smooth(encodeMsPerStep, ms);
    }

    /** Hears how long a decode iteration of the active set took, ms. */
    public void observeDecode(double ms) {
        decodeMsPerIteration = smooth(decodeMsPerIteration, ms);
    }

    private static double smooth(double average, double ms) {
        return Double.isNaN(average) ? ms : (1 - SMOOTHING) * average + SMOOTHING * ms;
    }

    /** The earlier of the request's own deadline and arrival + SLO, ms since the epoch; {@code Long.MAX_VALUE} if none. */
    public static long deadlineEpochMs(ValidRequest r) {
        long deadline = Long.MAX_VALUE;
        Long own = r.request().getDeadlineEpochMs();
        if (own != null) {
            deadline = own;
        }
        if (r.sloLatencyMs() > 0) {
            deadline = Math.min(deadline, r.arrivedEpochMs() + r.sloLatencyMs());
        }
        return deadline;
    }

    /** Output tokens the request is expected to need: maxNewTokens with ignoreEos, else the estimate when there is one. */
    static int expectedOutputTokens(ValidRequest r) {
        int max = r.request().getMaxNewTokens();
        if (r.request().getIgnoreEos() || r.numEstimatedOutputTokens() <= 0) {
            return max;
        }
        return Math.min(max, r.numEstimatedOutputTokens());
    }

    /**
     * Service time the request would need from now, ms: one encode step plus a decode iteration for every output token
     * after the first (the prefill yields one); NaN until an encode step has been measured. A decode group that this
     * executor does not run (a WAA encoder) counts as zero, so the prediction stays a lower bound there.
     */
    public double predictedServiceMs(ValidRequest r) {
        if (Double.isNaN(encodeMsPerStep)) {
            return Double.NaN;
        }
        double decode = Double.isNaN(decodeMsPerIteration) ? 0 : decodeMsPerIteration * Math.max(0, expectedOutputTokens(r) - 1);
        return encodeMsPerStep + decode;
    }

    /** Why the request is refused now, or null to run it (always null when {@link Mode#OFF}). */
    public String refusal(ValidRequest r, double nowEpochMs) {
        if (mode == Mode.OFF) {
            return null;
        }
        long deadline = deadlineEpochMs(r);
        double service = predictedServiceMs(r);
        if (deadline == Long.MAX_VALUE || Double.isNaN(service) || nowEpochMs + service <= deadline) {
            return null;
        }
        numRefused++;
        return String.format(Locale.ROOT, "admission (reject-late): predicted finish %.0f ms after arrival (waited %.0f ms, "
                        + "service ~%.0f ms: encode %.1f ms + %d tokens x %.2f ms) is past the deadline %d ms after arrival; "
                        + "answered early instead of run", nowEpochMs + service - r.arrivedEpochMs(),
                nowEpochMs - r.arrivedEpochMs(), service, encodeMsPerStep, expectedOutputTokens(r),
                Double.isNaN(decodeMsPerIteration) ? 0.0 : decodeMsPerIteration, deadline - r.arrivedEpochMs());
    }

    /** Requests refused so far. */
    public long numRefused() {
        return numRefused;
    }
}
