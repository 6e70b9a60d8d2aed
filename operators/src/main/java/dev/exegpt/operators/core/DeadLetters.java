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
                .setRawKeySizeBytes(raw.key() == null ? null : (long) raw.key().length)
                .setRawValueSizeBytes(raw.value() == null ? null : (long) raw.value().length)
                .setRawValueSha256(raw.value() == null ? null : Oversize.sha256(ByteBuffer.wrap(raw.value())))
                .build();
    }

    /** {@code b} with the original sizes and the value's hash set where they are not yet (from its untruncated bytes). */
    static DeadLetter.Builder described(DeadLetter.Builder b) {
        if (b.getRawKey() != null && b.getRawKeySizeBytes() == null) {
            b.setRawKeySizeBytes((long) b.getRawKey().remaining());
        }
        if (b.getRawValue() != null && b.getRawValueSizeBytes() == null) {
            b.setRawValueSizeBytes((long) b.getRawValue().remaining());
        }
        if (b.getRawValue() != null && b.getRawValueSha256() == null) {
            b.setRawValueSha256(Oversize.sha256(b.getRawValue()));
        }
        return b;
    }
}
