package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.plan.Candidate;

/**
 * The simulator's answer for one candidate: throughput at saturation, worst-case latency of a request of the bound
 * length (PAPER.md §2), and what the schedule looks like. Infeasible candidates carry the reason.
 *
 * @param latencyMs            worst-case end-to-end latency of a request of boundOutputTokens output tokens
 * @param encodeStageMs        one encode step (RRA: the whole encode phase; WAA: the encoder period)
 * @param decodeIterationMs    one decode iteration at the steady (largest) batch
 * @param peakMemoryBytes      the fullest device's weights + KV
 */
public record Estimate(Candidate candidate, boolean feasible, String infeasibleReason, double latencyMs,
                       double sequencesPerSecond, double tokensPerSecond, int decodeBatchSize, int boundOutputTokens,
                       int numEncoderDevices, int numDecoderDevices, double encodeStageMs, double decodeIterationMs,
                       long peakMemoryBytes, double utilisation) {

    public static Estimate infeasible(Candidate c, String reason, int boundOutputTokens) {
        return new Estimate(c, false, reason, Double.POSITIVE_INFINITY, 0, 0, 0, boundOutputTokens, 0, 0, 0, 0, 0, 0);
    }

    /**
     * WAA and DISAGGREGATED: the decoder backlog the encoder side steers by. The planned decode batch; when the
     * encoder is the slower side its hand-overs come in bursts of B_E on top of what is left, so the planned peak,
     * B_D + B_E.
     */
    public int decodeBacklogLimit() {
        boolean encoderBound = encodeStageMs > decodeIterationMs;
        return Math.max(1, decodeBatchSize + (encoderBound ? candidate.encodeBatchSize() : 0));
    }

    public boolean meets(double latencyBoundMs) {
        return feasible && latencyMs < latencyBoundMs;
    }
}
