package dev.exegpt.operators.flink;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * Where a WAA encoder subtask finds the backlog of the decoder subtask its hand-overs go to (the same replica), when
 * both run in this process: the embedded MiniCluster always, a cluster when Flink puts the two subtasks of a
 * replica in one TaskManager (its slot sharing usually does). The encoder then steers by the decoder's real backlog
 * (PAPER.md §7); where the decoder runs elsewhere the encoder takes it to be on plan.
 */
final class DecoderBacklogs {

    private static final Map<String, IntSupplier> BY_REPLICA = new ConcurrentHashMap<>();

    private DecoderBacklogs() {}

    static String key(String jobId, int replica) {
        return jobId + "/" + replica;
    }

    static void register(String key, IntSupplier backlog) {
        BY_REPLICA.put(key, backlog);
    }

    static void unregister(String key, IntSupplier backlog) {
        BY_REPLICA.remove(key, backlog);
    }

    /** The decoder's backlog, or -1 when its subtask does not run in this process (or has not started). */
    static int backlogOf(String key) {
        IntSupplier s = BY_REPLICA.get(key);
        return s == null ? -1 : s.getAsInt();
    }
}
