package dev.exegpt.operators.flink;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

import dev.exegpt.operators.runner.Admission;

/**
 * Where a WAA encoder subtask finds the decoder subtask its hand-overs go to (the same replica), when both run in
 * this process: the embedded MiniCluster always, a cluster when Flink puts the two subtasks of a replica in one
 * TaskManager (its slot sharing usually does). The encoder then steers by the decoder's real backlog (PAPER.md §7)
 * and counts the decode a request will need there in its admission control; where the decoder runs elsewhere the
 * encoder takes it to be on plan, and the decode counts as zero at the encoder.
 */
final class DecoderBacklogs {

    /** What an encoder may ask its decoder: its backlog, and its admission's forecast for a request handed over now. */
    record Decoder(IntSupplier backlog, Supplier<Admission.Forecast> forecast) {}

    private static final Map<String, Decoder> BY_REPLICA = new ConcurrentHashMap<>();

    private DecoderBacklogs() {}

    static String key(String jobId, int replica) {
        return jobId + "/" + replica;
    }

    static void register(String key, Decoder decoder) {
        BY_REPLICA.put(key, decoder);
    }

    static void unregister(String key, Decoder decoder) {
        BY_REPLICA.remove(key, decoder);
    }

    /** The decoder's backlog, or -1 when its subtask does not run in this process (or has not started). */
    static int backlogOf(String key) {
        Decoder d = BY_REPLICA.get(key);
        return d == null ? -1 : d.backlog().getAsInt();
    }

    /** The decoder's admission forecast; null when its subtask does not run here or has not decoded yet. */
    static Admission.Forecast forecastOf(String key) {
        Decoder d = BY_REPLICA.get(key);
        return d == null ? null : d.forecast().get();
    }
}
