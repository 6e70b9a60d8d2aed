package dev.exegpt.job.kafka;

import java.util.Iterator;

import dev.exegpt.schemas.InferenceRequest;

/** Requests to send, lazily (a file, or requests sampled from a task); closing releases what it holds. */
public interface RequestSource extends Iterator<InferenceRequest>, AutoCloseable {
    /** Known total, or 0 if unknown in advance. */
    long expectedCount();

    long numSkipped();

    default String describeCount() {
        return expectedCount() > 0 ? String.format("%,d requests", expectedCount()) : "requests";
    }

    @Override
    void close();
}
