package dev.exegpt.scheduler.sim;

import java.util.List;

/**
 * What a discrete-event run measured. Latencies: serviceMs from the start of the request's own encoding (the
 * paper's clock, PAPER.md §2.2 [choice]), e2eMs from its arrival (our extension, with queueing).
 *
 * @param boundLengthLatencyMs worst service latency among requests of the bound output length (+-2 tokens)
 * @param meanDecodeBatch      active requests per decode iteration, averaged over the steady window
 * @param meanBatchAfterEncode active requests in the first decode iteration after an encode (RRA's B_D)
 * @param timeline             the first steps, for plots
 * @param makespanMs           first arrival to last completion
 */
public record SimResult(int numRequests, double sequencesPerSecond, double tokensPerSecond, double boundLengthLatencyMs,
                        double p50ServiceMs, double p99ServiceMs, double p50E2eMs, double p99E2eMs, double p50TtftMs,
                        double p99TtftMs, double meanTpotMs, double meanDecodeBatch, double meanBatchAfterEncode, double utilisation,
                        double wallMs, List<TimelineStep> timeline, double makespanMs) {

    /**
     * Requests per second from the first arrival to the last completion: what a finite run delivered, fill and drain
     * included (where {@link #sequencesPerSecond}, between the 10th and 90th percentile completions, looks for the
     * steady state, a bulk of a few dozen requests has none, and that window then measures how its completions bunch).
     */
    public double completionsPerSecond() {
        return makespanMs > 0 ? numRequests * 1000.0 / makespanMs : Double.NaN;
    }

    /** One executed step: which executor, what, when, how many requests. */
    public record TimelineStep(int executor, String kind, double startMs, double endMs, int batchSize) {}
}
