package dev.exegpt.scheduler.sim;

/** One request inside the event simulator; mutable bookkeeping, owned by the simulator run. */
final class SimRequest {
    final int id;
    final int numInputTokens;
    final int numOutputTokens;
    final double arrivedMs;
    double encodeStartMs = Double.NaN;
    double firstTokenMs = Double.NaN;
    double finishMs = Double.NaN;
    int generated;

    SimRequest(int id, int numInputTokens, int numOutputTokens, double arrivedMs) {
        this.id = id;
        this.numInputTokens = numInputTokens;
        this.numOutputTokens = numOutputTokens;
        this.arrivedMs = arrivedMs;
    }

    boolean done() {
        return generated >= numOutputTokens;
    }
}
