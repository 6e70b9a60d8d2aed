package dev.exegpt.job.report;

import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;

/**
 * Where a request's latency is counted from when it is held against its SLO. Every latency and attainment figure of
 * the report, {@code exegpt audit}, the bench and the demo names one of these.
 */
public enum SloClock {

    /** From the request's Kafka record timestamp to its last token: {@code endToEndMs}, the job's own verdict ({@code sloMet}). */
    ARRIVAL("from arrival"),

    /**
     * From the start of the request's encode step to its last token: {@code endToEndMs - queueMs}. The paper's clock
     * under bulk arrivals, where the wait in the queue measures only the size of the bulk (PAPER.md §2.2).
     */
    ENCODE_START("from encode start");

    private final String label;

    SloClock(String label) {
        this.label = label;
    }

    /** The words that name this clock beside a figure, e.g. "from arrival". */
    public String label() {
        return label;
    }

    /** The request's latency on this clock, ms. */
    public double latencyMs(InferenceResult r) {
        RequestLatency l = r.getLatency();
        return this == ARRIVAL ? l.getEndToEndMs() : l.getEndToEndMs() - l.getQueueMs();
    }

    /**
     * Whether the request met the SLO that applied to it on this clock; null when none applied. A request that was not
     * answered with its tokens (refused by admission control, past its deadline, failed) did not meet it, however soon
     * it was answered. On {@link #ARRIVAL} this is the job's {@code sloMet} (endToEndMs &lt;= sloLatencyMs).
     */
    public Boolean met(InferenceResult r) {
        Long sloMs = r.getSloLatencyMs();
        return sloMs == null ? null : !unanswered(r) && latencyMs(r) <= sloMs;
    }

    /** Answered without its tokens: refused by admission control, past its deadline, or failed. */
    public static boolean unanswered(InferenceResult r) {
        return r.getFinishReason() == dev.exegpt.schemas.FinishReason.DEADLINE
                || r.getFinishReason() == dev.exegpt.schemas.FinishReason.ERROR;
    }
}
