package dev.exegpt.operators.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/** A schedule is input like any other: one the running job cannot adopt is refused with a reason. */
class ScheduleValidatorTest {

    private static final ScheduleValidator ONE_GROUP = new ScheduleValidator(new ScheduleValidator.Limits(false, 500, null));
    private static final ScheduleValidator SPLIT = new ScheduleValidator(new ScheduleValidator.Limits(true, 500, null));
    /** A job of an encoder-decoder model, whose engines say why they cannot prefill in chunks. */
    private static final ScheduleValidator ENCODER_DECODER = new ScheduleValidator(new ScheduleValidator.Limits(false, 500,
            "chunked prefill (VLLM_V1) runs decoder-only models; T5 is an encoder-decoder model"));

    private static Schedule.Builder rra() {
        return Schedule.newBuilder().setScheduleId("plan-1").setVersion(3).setPolicy(SchedulePolicy.RRA).setEncodeBatchSize(4)
                .setDecodeBatchSize(16).setDecodeIterationsPerEncode(5);
    }

    private static byte[] bytes(Schedule.Builder b) {
        return new AvroBinary<Schedule>(Schedule.getClassSchema()).encode(b.build());
    }

    @Test
    void aRunnableNewerScheduleShouldBeAccepted() {
        ScheduleValidator.Checked c = ONE_GROUP.check(bytes(rra()), 2);
        assertNull(c.reason());
        assertEquals(3, c.schedule().getVersion());
        assertNull(ONE_GROUP.check(bytes(rra().setPolicy(SchedulePolicy.STATIC)), 2).reason());
        assertNull(ONE_GROUP.check(bytes(rra().setPolicy(SchedulePolicy.CONTINUOUS).setDecodeIterationsPerEncode(0)), 2).reason());
        assertNull(SPLIT.check(bytes(rra().setPolicy(SchedulePolicy.WAA_M).setDecodeMicroBatchSize(4)), 2).reason());
        assertNull(ONE_GROUP.check(bytes(rra().setPolicy(SchedulePolicy.VLLM_V0).setMaxNumSeqs(64).setMaxNumBatchedTokens(2048)),
                2).reason());
        assertNull(ONE_GROUP.check(bytes(rra().setPolicy(SchedulePolicy.VLLM_V1).setMaxNumSeqs(64).setMaxNumBatchedTokens(2048)),
                2).reason());
    }

    @Test
    void anEncoderDecoderJobShouldRefuseChunkedPrefillWithItsEnginesReason() {
        String reason = ENCODER_DECODER.check(bytes(rra().setPolicy(SchedulePolicy.VLLM_V1).setMaxNumSeqs(64)
                .setMaxNumBatchedTokens(2048)), 2).reason();
        assertEquals("schedule 'plan-1' v3: chunked prefill (VLLM_V1) runs decoder-only models; T5 is an encoder-decoder model",
                reason);
        assertNull(ENCODER_DECODER.check(bytes(rra().setPolicy(SchedulePolicy.VLLM_V0).setMaxNumSeqs(64)
                .setMaxNumBatchedTokens(2048)), 2).reason());
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of(rra().setPolicy(SchedulePolicy.UNKNOWN), "policy UNKNOWN is not one the executors run"),
                Arguments.of(rra().setPolicy(SchedulePolicy.WAA_C), "needs separate encoder and decoder groups"),
                Arguments.of(rra().setPolicy(SchedulePolicy.DISAGGREGATED), "needs a restart with the new schedule"),
                Arguments.of(rra().setPolicy(SchedulePolicy.VLLM_V1).setMaxNumSeqs(-1).setMaxNumBatchedTokens(2048),
                        "VLLM_V1 needs maxNumBatchedTokens >= 1 and maxNumSeqs in 0..500"),
                Arguments.of(rra().setPolicy(SchedulePolicy.VLLM_V0).setMaxNumBatchedTokens(0), "VLLM_V0 needs maxNumBatchedTokens >= 1"),
                Arguments.of(rra().setEncodeBatchSize(0), "encodeBatchSize is 0: expected 1..500"),
                Arguments.of(rra().setEncodeBatchSize(-4), "encodeBatchSize is -4"),
                Arguments.of(rra().setEncodeBatchSize(1_000_000), "encodeBatchSize is 1000000: expected 1..500"),
                Arguments.of(rra().setDecodeBatchSize(-1), "decodeBatchSize is -1"),
                Arguments.of(rra().setDecodeBatchSize(Integer.MAX_VALUE), "decodeBatchSize is 2147483647"),
                Arguments.of(rra().setDecodeIterationsPerEncode(0), "RRA needs at least 1"),
                Arguments.of(rra().setDecodeIterationsPerEncode(-7), "decodeIterationsPerEncode is -7"),
                Arguments.of(rra().setDecodeMicroBatchSize(-2), "decodeMicroBatchSize is -2"),
                Arguments.of(rra().setNumReplicas(0), "numReplicas is 0"),
                Arguments.of(rra().setTpDegree(3), "tpDegree is 3"),
                Arguments.of(rra().setVersion(2), "version 2 is not newer than v2"),
                Arguments.of(rra().setVersion(-1), "version -1 is not newer than v2"),
                Arguments.of(rra().setScheduleId(""), "scheduleId ''"),
                Arguments.of(rra().setScheduleId("x".repeat(300)), "expected 1..256 printable characters"));
    }

    @ParameterizedTest
    @MethodSource("refused")
    void aScheduleTheJobCannotRunShouldBeRefusedWithAReason(Schedule.Builder b, String reason) {
        ScheduleValidator.Checked c = ONE_GROUP.check(bytes(b), 2);
        assertTrue(c.reason() != null && c.reason().contains(reason), "expected '" + reason + "', got: " + c.reason());
    }

    @Test
    void aSplitJobShouldRefuseOneGroupPolicies() {
        assertTrue(SPLIT.check(bytes(rra()), 2).reason().contains("runs encode and decode on one group"));
    }

    @Test
    void bytesThatAreNotAScheduleShouldBeRefused() {
        assertTrue(ONE_GROUP.check(null, 1).reason().contains("empty record value"));
        assertTrue(ONE_GROUP.check(new byte[] {(byte) 0xff, (byte) 0xff, 1}, 1).reason().contains("not an Avro Schedule"));
        assertTrue(ONE_GROUP.check(new byte[70_000], 1).reason().contains("a schedule of 70000 bytes"));
        byte[] notes = bytes(rra().setNotes(java.util.Map.of("why", "n".repeat(100_000))));
        assertTrue(ONE_GROUP.check(notes, 1).reason().contains("expected at most 65536"));
    }

    /** A schedule whose batches need more requests in flight than the job's executors hold runs, with a warning. */
    @Test
    void aScheduleLargerThanTheExecutorsCapacityIsAdoptedWithAWarning() {
        ScheduleValidator held = new ScheduleValidator(new ScheduleValidator.Limits(false, 500, null, 48));
        assertNull(held.capacityWarning(rra().build()), "B_E=4, B_D=16: 2 x 16 + 4 x 4 = 48 fits");
        Schedule big = rra().setDecodeBatchSize(40).build();
        assertNull(held.check(bytes(rra().setDecodeBatchSize(40)), 2).reason(), "adopted all the same");
        assertEquals("schedule 'plan-1' v3 plans batches that need 96 requests in flight per executor, but this job's"
                + " executors hold 48 (fixed at its start): its batches will be smaller than planned; start the job with"
                + " executor.max.in.flight=96 or more", held.capacityWarning(big));
        assertNull(ONE_GROUP.capacityWarning(big), "no capacity known, no warning");
    }
}
