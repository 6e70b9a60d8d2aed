package dev.exegpt.operators.core;

/**
 * A record as it came off Kafka (or out of a file), before anything was decoded: the job keeps the original bytes
 * until a request is known to be valid, so that a bad record reaches the dead-letter topic unchanged.
 *
 * @param key              original key bytes; null if none
 * @param value            original value bytes; null for a tombstone
 * @param topic            source topic; empty for file input
 * @param partition        source partition; -1 if not from Kafka
 * @param offset           offset in the partition; -1 if not from Kafka
 * @param timestampEpochMs Kafka record timestamp (the origin of every latency), ms since the Unix epoch
 */
public record RawRecord(byte[] key, byte[] value, String topic, int partition, long offset, long timestampEpochMs) {

    public RawRecord {
        topic = topic == null ? "" : topic;
    }

    /** Where the record came from, for logs and reasons: {@code topic-partition@offset}. */
    public String position() {
        return topic + "-" + partition + "@" + offset;
    }
}
