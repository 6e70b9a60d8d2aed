package dev.exegpt.operators.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/** Declared lengths and counts are checked against the bytes before Avro allocates for them. */
class AvroBoundsTest {

    private static final AvroBinary<InferenceRequest> CODEC = new AvroBinary<>(InferenceRequest.getClassSchema());

    /** Avro's zig-zag varint. */
    private static void varLong(ByteArrayOutputStream out, long v) {
        long z = (v << 1) ^ (v >> 63);
        while ((z & ~0x7FL) != 0) {
            out.write((int) ((z & 0x7F) | 0x80));
            z >>>= 7;
        }
        out.write((int) z);
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        varLong(out, b.length);
        out.writeBytes(b);
    }

    /** An InferenceRequest's bytes up to promptTokenIds (requestId, task, promptText null), then {@code rest}. */
    private static ByteArrayOutputStream head() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        string(out, "r1");
        string(out, "summarization");
        return out;
    }

    @Test
    void validRecordsOfEverySchemaShouldPass() throws IOException {
        InferenceRequest r = InferenceRequest.newBuilder().setRequestId("r1").setTask("summarization").setPromptText("hi")
                .setPromptTokenIds(List.of(1, 2, 3)).setMaxNewTokens(4).setMetadata(Map.of("k", "v")).build();
        byte[] bytes = CODEC.encode(r);
        assertNull(new AvroBounds(InferenceRequest.getClassSchema(), 16).check(bytes));
        assertEquals(r, CODEC.decode(bytes));
        Schedule s = Schedule.newBuilder().setScheduleId("s").setPolicy(SchedulePolicy.RRA).setEncodeBatchSize(2)
                .setDecodeBatchSize(8).setNotes(Map.of("a", "b")).build();
        assertNull(new AvroBounds(Schedule.getClassSchema(), 16).check(new AvroBinary<Schedule>(Schedule.getClassSchema()).encode(s)));
        InferenceResult result = InferenceResult.newBuilder().setRequestId("r1").setTask("t").setNumInputTokens(1)
                .setNumOutputTokens(2).setOutputTokenIds(List.of(5, 6)).setFinishReason(dev.exegpt.schemas.FinishReason.EOS).setLatency(RequestLatency.newBuilder()
                        .setArrivedEpochMs(1).setCompletedEpochMs(2).setQueueMs(0).setEncodeMs(1).setDecodeMs(0).setTtftMs(1)
                        .setEndToEndMs(1).setClockSkewMs(7L).build()).build();
        assertNull(new AvroBounds(InferenceResult.getClassSchema(), 16)
                .check(new AvroBinary<InferenceResult>(InferenceResult.getClassSchema()).encode(result)));
    }

    @Test
    void aStringLongerThanTheBytesShouldBeRefusedBeforeDecoding() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        varLong(out, Integer.MAX_VALUE);           // requestId declares 2 GiB
        out.writeBytes(new byte[] {'a', 'b'});
        IOException e = assertThrows(IOException.class, () -> CODEC.decode(out.toByteArray()));
        assertTrue(e.getMessage().contains("InferenceRequest.requestId declares 2147483647 bytes but 2 remain"), e.getMessage());
        assertTrue(e.getMessage().contains("the bytes end inside the record"), e.getMessage());
    }

    @Test
    void anArrayDeclaringABillionItemsShouldBeRefused() {
        ByteArrayOutputStream out = head();
        out.write(0);                              // promptText: union branch 0 (null)
        out.write(2);                              // promptTokenIds: branch 1 (array)
        varLong(out, 1_000_000_000L);              // a block of a billion ints, in 5 bytes
        out.write(0);
        IOException e = assertThrows(IOException.class, () -> CODEC.decode(out.toByteArray()));
        assertTrue(e.getMessage().contains("promptTokenIds declares 1000000000 items: expected at most 65536"), e.getMessage());
    }

    @Test
    void aBlockWithANegativeCountAndAHugeSizeShouldBeRefused() {
        ByteArrayOutputStream out = head();
        out.write(0);
        out.write(2);
        varLong(out, -3);                          // 3 items whose block claims 1 TB
        varLong(out, 1L << 40);
        IOException e = assertThrows(IOException.class, () -> CODEC.decode(out.toByteArray()));
        assertTrue(e.getMessage().contains("declares a block of 1099511627776 bytes"), e.getMessage());
    }

    @Test
    void manyItemsOfFewBytesShouldBeCappedPerCollection() {
        InferenceRequest r = InferenceRequest.newBuilder().setRequestId("r1").setTask("summarization")
                .setPromptTokenIds(Collections.nCopies(100, 1)).setMaxNewTokens(4).build();
        byte[] bytes = CODEC.encode(r);
        assertNull(new AvroBounds(InferenceRequest.getClassSchema(), 100).check(bytes));
        String reason = new AvroBounds(InferenceRequest.getClassSchema(), 99).check(bytes);
        assertTrue(reason.contains("promptTokenIds declares 100 items: expected at most 99"), reason);
    }

    @Test
    void unionAndEnumIndexesOutOfRangeAndOverlongNumbersShouldBeRefused() {
        ByteArrayOutputStream union = head();
        varLong(union, 5);                         // promptText has two branches
        assertTrue(new AvroBounds(InferenceRequest.getClassSchema(), 16).check(union.toByteArray())
                .contains("promptText has union branch 5"));
        byte[] longNumber = new byte[12];
        java.util.Arrays.fill(longNumber, (byte) 0xff);
        assertTrue(new AvroBounds(InferenceRequest.getClassSchema(), 16).check(longNumber).contains("longer than 10 bytes"));
        ByteArrayOutputStream schedule = new ByteArrayOutputStream();
        string(schedule, "s");
        varLong(schedule, 1);                      // version
        varLong(schedule, 0);                      // createdEpochMs
        varLong(schedule, 40);                     // policy: enum index 40
        assertTrue(new AvroBounds(Schedule.getClassSchema(), 16).check(schedule.toByteArray()).contains("policy has enum index 40"));
    }

    @Test
    void everyTruncationOfAValidRecordShouldBeRefusedWithoutAnException() {
        byte[] bytes = CODEC.encode(InferenceRequest.newBuilder().setRequestId("r1").setTask("summarization")
                .setPromptText("the quick brown fox").setPromptTokenIds(List.of(1, 2, 3)).setMaxNewTokens(4)
                .setMetadata(Map.of("k", "v")).build());
        AvroBounds bounds = new AvroBounds(InferenceRequest.getClassSchema(), 16);
        for (int n = 0; n < bytes.length; n++) {
            String reason = bounds.check(java.util.Arrays.copyOf(bytes, n));
            assertTrue(reason != null && reason.startsWith(AvroBounds.END), "cut at " + n + ": " + reason);
        }
    }
}
