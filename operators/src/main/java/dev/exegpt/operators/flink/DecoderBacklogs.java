package dev.exegpt.operators.flink;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import java.util.function.ToDoubleFunction;

import dev.exegpt.operators.core.ValidRequest;

/**
 * Where a WAA encoder subtask finds the decoder subtask its hand-overs go to (the same replica), when both run in
 * this process: the embedded MiniCluster always, a cluster when Flink puts the two subtasks of a replica in one
 * TaskManager (its slot sharing usually does). The encoder then steers by the decoder's real backlog (PAPER.md §7)
 * and counts the decode a request will need there in its admission control; where the decoder runs elsewhere the
 * encoder takes it to be on plan, and the decode counts as zero at the encoder.
 */
final class DecoderBacklogs {

    /** What an encoder may ask its decoder: its backlog, and the decode service of a request handed over now (ms). */
    record Decoder(IntSupplier backlog, ToDoubleFunction<ValidRequest> serviceMs) {}

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

    /** The decoder's predicted decode service for r, ms; NaN when its subtask does not run here or has not decoded yet. */
    static double serviceMsOf(String key, ValidRequest r) {
        Decoder d = BY_REPLICA.get(key);
        return d == null ? Double.NaN : d.serviceMs().applyAsDouble(r);
    }
}
