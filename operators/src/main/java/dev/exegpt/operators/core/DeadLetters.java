package dev.exegpt.operators.core;

import java.nio.ByteBuffer;

import dev.exegpt.schemas.DeadLetter;

/** Builds the {@link DeadLetter} for a rejected record: its original bytes, where it came from, and why. */
public final class DeadLetters {

    private DeadLetters() {}

    public static DeadLetter of(RawRecord raw, Verdict.Rejected rejected, long nowEpochMs) {
        return of(raw, rejected.stage(), rejected.reason(), rejected.requestId(), rejected.error(), nowEpochMs);
    }

    public static DeadLetter of(RawRecord raw, String stage, String reason, String requestId, Throwable error,
                                long nowEpochMs) {
        return DeadLetter.newBuilder()
                .setRawKey(raw.key() == null ? null : ByteBuffer.wrap(raw.key()))
                .setRawValue(raw.value() == null ? null : ByteBuffer.wrap(raw.value()))
                .setSourceTopic(raw.topic())
                .setSourcePartition(raw.partition())
                .setSourceOffset(raw.offset())
                .setSourceTimestampEpochMs(raw.timestampEpochMs() >= 0 ? raw.timestampEpochMs() : null)
                .setRequestId(requestId)
                .setStage(stage)
                .setReason(reason)
                .setErrorClass(error == null ? null : error.getClass().getName())
                .setFailedEpochMs(nowEpochMs)
                .build();
    }
}
