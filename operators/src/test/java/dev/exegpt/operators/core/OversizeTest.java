package dev.exegpt.operators.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;

/** Answers cut to the topic's limit: never over it, flagged, and explained. */
class OversizeTest {

    private static final AvroBinary<InferenceResult> RESULTS = new AvroBinary<>(InferenceResult.getClassSchema());
    private static final AvroBinary<DeadLetter> DEAD = new AvroBinary<>(DeadLetter.getClassSchema());

    private static InferenceResult result(int metadataChars, String text, int numTokens) {
        Map<String, String> metadata = new HashMap<>();
        for (int i = 0; i < metadataChars / 1000; i++) {
            metadata.put("k" + i, "v".repeat(1000));
        }
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < numTokens; i++) {
            ids.add(i * 1000);
        }
        return InferenceResult.newBuilder().setRequestId("r1").setTask("summarization").setNumInputTokens(3)
                .setNumOutputTokens(numTokens).setOutputTokenIds(ids).setOutputText(text).setFinishReason(FinishReason.MAX_TOKENS)
                .setMetadata(metadata).setLatency(RequestLatency.newBuilder().setArrivedEpochMs(1).setCompletedEpochMs(2)
                        .setQueueMs(0).setEncodeMs(1).setDecodeMs(0).setTtftMs(1).setEndToEndMs(1).build()).build();
    }

    private static int size(InferenceResult r) {
        return RESULTS.encode(r).length;
    }

    @Test
    void aResultThatFitsShouldBeLeftAlone() {
        InferenceResult r = result(3000, "fine", 4);
        assertSame(r, Oversize.fit(r, size(r), OversizeTest::size));
    }

    @Test
    void metadataShouldGoFirstThenTextThenTokens() {
        InferenceResult big = result(200_000, "word ".repeat(10_000), 20_000);
        int small = 64 * 1024;
        InferenceResult cut = Oversize.fit(big, 150_000, OversizeTest::size);
        assertTrue(size(cut) <= 150_000);
        assertTrue(cut.getTruncated());
        assertEquals(big.getOutputText(), cut.getOutputText(), "dropping the metadata was enough");
        assertEquals(Map.of("exegpt.truncated", "200 metadata entries dropped"), cut.getMetadata());
        assertTrue(cut.getTruncatedReason().contains("its 200 metadata entries were dropped"), cut.getTruncatedReason());

        InferenceResult cutMore = Oversize.fit(big, small, OversizeTest::size);
        assertTrue(size(cutMore) <= small, "at most the limit: " + size(cutMore));
        assertTrue(cutMore.getTruncatedReason().contains("output"), cutMore.getTruncatedReason());
        assertEquals("r1", cutMore.getRequestId(), "the id, latencies and verdict always stay");
        assertEquals(big.getLatency(), cutMore.getLatency());

        InferenceResult tiny = Oversize.fit(big, 2_000, OversizeTest::size);
        assertTrue(size(tiny) <= 2_000, "even a tiny limit is met: " + size(tiny));
        assertTrue(tiny.getTruncated());
    }

    @Test
    void aDeadLetterShouldKeepItsSizesAndHashAndBeCutToTheLimit() {
        byte[] value = new byte[3_000_000];
        new java.util.Random(3).nextBytes(value);
        byte[] key = new byte[500_000];
        DeadLetter d = DeadLetters.of(new RawRecord(key, value, "exegpt.requests", 2, 99, 5L), "decode", "x".repeat(10_000),
                null, null, 6L);
        assertEquals(3_000_000L, d.getRawValueSizeBytes());
        assertEquals(Oversize.sha256(ByteBuffer.wrap(value)), d.getRawValueSha256());
        DeadLetter cut = Oversize.fit(d, 1_048_576 - Oversize.RECORD_OVERHEAD_BYTES, r -> DEAD.encode(r).length);
        assertTrue(DEAD.encode(cut).length <= 1_048_576 - Oversize.RECORD_OVERHEAD_BYTES);
        assertTrue(cut.getTruncated());
        assertEquals(3_000_000L, cut.getRawValueSizeBytes());
        assertEquals(500_000L, cut.getRawKeySizeBytes());
        assertEquals(d.getRawValueSha256(), cut.getRawValueSha256(), "the hash names the whole original value");
        assertEquals(99L, cut.getSourceOffset());
        assertTrue(cut.getReason().contains("[dead letter cut to the topic's limit"), cut.getReason());
        byte[] kept = new byte[cut.getRawValue().remaining()];
        cut.getRawValue().duplicate().get(kept);
        assertTrue(java.util.Arrays.equals(kept, 0, kept.length, value, 0, kept.length), "the value's first bytes are kept");

        DeadLetter keyToo = Oversize.fit(d, 100_000, r -> DEAD.encode(r).length);
        assertTrue(DEAD.encode(keyToo).length <= 100_000, "key cut as well: " + DEAD.encode(keyToo).length);

        DeadLetter small = DeadLetters.of(new RawRecord(null, new byte[] {1, 2}, "t", 0, 1, 5L), "decode", "bad", null, null, 6L);
        DeadLetter same = Oversize.fit(small, 1_000_000, r -> DEAD.encode(r).length);
        assertFalse(same.getTruncated());
        assertEquals(2L, same.getRawValueSizeBytes());
        assertEquals(null, same.getRawKeySizeBytes());
    }
}
