package dev.exegpt.scheduler.sim;

import java.util.List;

/**
 * Simulator events (STYLE.md C10), ordered by time, then priority (arrivals before hand-overs before step ends),
 * then a per-run sequence number, so that a run is deterministic.
 */
sealed interface Event permits Event.RequestArrived, Event.HandoverArrived, Event.StepEnded {
    double atMs();

    int priority();

    long seq();

    record RequestArrived(double atMs, long seq, SimRequest request) implements Event {
        public int priority() { return 0; }
    }

    /** Encoded requests reach the decoder group (WAA / DISAGGREGATED) after the encoder pipeline and the KV transfer. */
    record HandoverArrived(double atMs, long seq, List<SimRequest> requests) implements Event {
        public int priority() { return 1; }
    }

    record StepEnded(double atMs, long seq, int executor) implements Event {
        public int priority() { return 2; }
    }
}
