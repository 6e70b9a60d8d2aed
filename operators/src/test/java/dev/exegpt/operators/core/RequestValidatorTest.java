package dev.exegpt.operators.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.exegpt.schemas.InferenceRequest;

class RequestValidatorTest {

    private static final long ARRIVED = 1_700_000_000_000L;
    private static final RequestLimits LIMITS = new RequestLimits(Set.of("summarization", "translation"), 1000, 64, 96, 48,
            RequestLimits.DEFAULT_MAX_SLO_LATENCY_MS);
    /** One token per whitespace-separated word, id = word length: enough to check the plumbing. */
    private static final PromptTokenizer WORDS = text -> Arrays.stream(text.trim().split("\\s+"))
            .filter(w -> !w.isEmpty()).mapToInt(String::length).toArray();
    private static final RequestValidator VALIDATOR =
            new RequestValidator(LIMITS, WORDS, Map.of("summarization", 5_000L));

    private static InferenceRequest.Builder valid() {
        return InferenceRequest.newBuilder().setRequestId("r1").setTask("summarization").setPromptText("a bb ccc")
                .setMaxNewTokens(16);
    }

    private static Verdict validate(InferenceRequest request) {
        byte[] bytes = new AvroBinary<InferenceRequest>(InferenceRequest.getClassSchema()).encode(request);
        return VALIDATOR.validate(new RawRecord("r1".getBytes(StandardCharsets.UTF_8), bytes, "exegpt.requests", 0, 7, ARRIVED),
                ARRIVED + 5);
    }

    @Test
    void shouldAcceptAValidRequestAndApplyTheTaskSlo() {
        ValidRequest accepted = assertInstanceOf(Verdict.Accepted.class, validate(valid().build())).request();
        assertArrayEquals(new int[] {1, 2, 3}, accepted.promptTokenIds());
        assertEquals(ARRIVED, accepted.arrivedEpochMs());
        assertEquals(5_000L, accepted.sloLatencyMs(), "the task's SLO applies when the request has none");
    }

    @Test
    void shouldPreferTheRequestsOwnSloAndTokenIds() {
        ValidRequest accepted = assertInstanceOf(Verdict.Accepted.class,
                validate(valid().setSloLatencyMs(900L).setPromptTokenIds(List.of(5, 6)).build())).request();
        assertArrayEquals(new int[] {5, 6}, accepted.promptTokenIds());
        assertEquals(900L, accepted.sloLatencyMs());
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                bad("blank id", b -> b.setRequestId("  "), "requestId is empty"),
                bad("id too long", b -> b.setRequestId("x".repeat(300)), "requestId has 300 characters"),
                bad("id with a control character", b -> b.setRequestId("r\u0000x"), "requestId 'r\\u0000x' has control characters"),
                bad("id not UTF-8", b -> b.setRequestId("r\uFFFD"), "bytes that are not UTF-8"),
                bad("prompt not UTF-8", b -> b.setPromptText("caf\uFFFD au lait"), "promptText has bytes that are not UTF-8 (decoded as U+FFFD at character 3)"),
                bad("unknown task", b -> b.setTask("poetry"), "task 'poetry' is unknown: expected one of [summarization, translation]"),
                bad("zero max tokens", b -> b.setMaxNewTokens(0), "maxNewTokens is 0: expected 1..48"),
                bad("negative max tokens", b -> b.setMaxNewTokens(-5), "maxNewTokens is -5"),
                bad("absurd max tokens", b -> b.setMaxNewTokens(1_000_000), "maxNewTokens is 1000000: expected 1..48"),
                bad("zero slo", b -> b.setSloLatencyMs(0L), "sloLatencyMs is 0"),
                bad("negative slo", b -> b.setSloLatencyMs(-1L), "sloLatencyMs is -1"),
                bad("absurd slo", b -> b.setSloLatencyMs(Long.MAX_VALUE), "sloLatencyMs is " + Long.MAX_VALUE),
                bad("past deadline", b -> b.setDeadlineEpochMs(ARRIVED - 1), "is not after the request's arrival"),
                bad("no prompt", b -> b.setPromptText(null), "prompt is empty"),
                bad("blank prompt", b -> b.setPromptText(" \t\n "), "prompt is empty"),
                bad("empty token ids", b -> b.setPromptText(null).setPromptTokenIds(List.of()), "prompt is empty"),
                bad("token id too big", b -> b.setPromptTokenIds(List.of(3, 1000)), "promptTokenIds[1] is 1000: expected a token id in 0..999"),
                bad("negative token id", b -> b.setPromptTokenIds(List.of(-1)), "promptTokenIds[0] is -1"),
                bad("prompt too long", b -> b.setPromptTokenIds(java.util.Collections.nCopies(65, 1)), "prompt has 65 tokens: expected at most 64"),
                bad("prompt plus output too long", b -> b.setPromptTokenIds(java.util.Collections.nCopies(60, 1)).setMaxNewTokens(40),
                        "plus maxNewTokens (40) is 100: expected at most the model's 96 positions"));
    }

    private static Arguments bad(String name, UnaryOperator<InferenceRequest.Builder> change, String reason) {
        return Arguments.of(name, change, reason);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void shouldRejectWithAReasonNamingTheFieldAndTheExpectation(String name, UnaryOperator<InferenceRequest.Builder> change,
                                                                String reason) {
        Verdict.Rejected rejected = assertInstanceOf(Verdict.Rejected.class, validate(change.apply(valid()).build()));
        assertEquals(RequestValidator.STAGE_VALIDATE, rejected.stage());
        assertTrue(rejected.reason().contains(reason), () -> "reason was: " + rejected.reason());
    }

    @Test
    void shouldRejectBytesThatAreNotAnInferenceRequestAtTheDecodeStage() {
        byte[][] garbage = {
            new byte[0],
            "hello, not avro".getBytes(StandardCharsets.UTF_8),
            {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f},
            Arrays.copyOf(new AvroBinary<InferenceRequest>(InferenceRequest.getClassSchema()).encode(valid().build()), 5),
        };
        for (byte[] value : garbage) {
            Verdict verdict = VALIDATOR.validate(new RawRecord(null, value, "t", 1, 2, ARRIVED), ARRIVED);
            Verdict.Rejected rejected = assertInstanceOf(Verdict.Rejected.class, verdict, () -> Arrays.toString(value));
            assertEquals(RequestValidator.STAGE_DECODE, rejected.stage(), rejected.reason());
        }
        byte[] truncated = garbage[3];
        String reason = ((Verdict.Rejected) VALIDATOR.validate(new RawRecord(null, truncated, "t", 1, 2, ARRIVED), ARRIVED)).reason();
        assertTrue(reason.contains("the bytes end inside the record"), reason);
        Verdict tombstone = VALIDATOR.validate(new RawRecord(null, null, "t", 1, 3, ARRIVED), ARRIVED);
        assertEquals("empty record value: expected an Avro InferenceRequest", ((Verdict.Rejected) tombstone).reason());
    }

    @Test
    void shouldTurnATokenizerFailureIntoARejection() {
        RequestValidator failing = new RequestValidator(LIMITS, text -> {
            throw new IllegalStateException("malformed surrogate");
        }, Map.of());
        byte[] bytes = new AvroBinary<InferenceRequest>(InferenceRequest.getClassSchema()).encode(valid().build());
        Verdict.Rejected rejected = assertInstanceOf(Verdict.Rejected.class,
                failing.validate(new RawRecord(null, bytes, "t", 0, 0, ARRIVED), ARRIVED));
        assertTrue(rejected.reason().contains("malformed surrogate"), rejected.reason());
        assertEquals("r1", rejected.requestId());
    }

    @ParameterizedTest
    @MethodSource("invisibleIds")
    void anIdWithNothingVisibleShouldBeRefused(String id) {
        Verdict.Rejected r = assertInstanceOf(Verdict.Rejected.class, validate(valid().setRequestId(id).build()));
        assertEquals(RequestValidator.STAGE_VALIDATE, r.stage());
        assertTrue(r.reason().contains("has no visible character"), r.reason());
    }

    static Stream<String> invisibleIds() {
        return Stream.of("\u200b", "\u200b\u200c\u200d", "\ufeff\u2060", "\u00a0\u3000", "\u3164\u3164", "\u2800",
                "\u00ad\u034f", "\ufe0f", new String(Character.toChars(0xE0041)) + new String(Character.toChars(0xE007F)),
                "\u202e\u2066");
    }

    @Test
    void idsWithVisibleCharactersShouldPass() {
        for (String id : List.of("r-1", "東京-7", "\u200bx", "🙂", "a b")) {
            assertInstanceOf(Verdict.Accepted.class, validate(valid().setRequestId(id).build()), id);
        }
    }

    @Test
    void aTimestampFromTheFutureShouldStartTheClockAtTheJobsArrival() {
        byte[] bytes = new AvroBinary<InferenceRequest>(InferenceRequest.getClassSchema()).encode(valid().build());
        long now = ARRIVED;
        ValidRequest skewed = assertInstanceOf(Verdict.Accepted.class, VALIDATOR.validate(
                new RawRecord(null, bytes, "t", 0, 1, now + 3_600_000), now)).request();
        assertEquals(now, skewed.arrivedEpochMs(), "measured from the job's arrival");
        assertEquals(3_600_000, skewed.clockSkewMs());
        ValidRequest agreed = assertInstanceOf(Verdict.Accepted.class, VALIDATOR.validate(
                new RawRecord(null, bytes, "t", 0, 1, now - 20), now)).request();
        assertEquals(now - 20, agreed.arrivedEpochMs());
        assertEquals(0, agreed.clockSkewMs());
        ValidRequest none = assertInstanceOf(Verdict.Accepted.class, VALIDATOR.validate(
                new RawRecord(null, bytes, "t", 0, 1, -1), now)).request();
        assertEquals(now, none.arrivedEpochMs(), "no timestamp: the job's arrival");
        // A deadline is checked against the corrected arrival: an hour ahead of the job is in the future.
        byte[] withDeadline = new AvroBinary<InferenceRequest>(InferenceRequest.getClassSchema())
                .encode(valid().setDeadlineEpochMs(now + 60_000).build());
        assertInstanceOf(Verdict.Accepted.class, VALIDATOR.validate(new RawRecord(null, withDeadline, "t", 0, 1, now + 3_600_000), now));
    }

    @Test
    void hugeMetadataAndHugeTextShouldBeRefusedBeforeTokenizing() {
        Verdict.Rejected meta = assertInstanceOf(Verdict.Rejected.class, validate(valid()
                .setMetadata(Map.of("k", "v".repeat(RequestLimits.MAX_METADATA_CHARS))).build()));
        assertTrue(meta.reason().contains("metadata has 1 entries of 65537 characters"), meta.reason());
        PromptTokenizer mustNotRun = text -> {
            throw new AssertionError("tokenized " + text.length() + " characters");
        };
        RequestValidator v = new RequestValidator(LIMITS, mustNotRun, Map.of());
        byte[] bytes = new AvroBinary<InferenceRequest>(InferenceRequest.getClassSchema())
                .encode(valid().setPromptText("w ".repeat(5_000_000)).build());
        Verdict.Rejected text = assertInstanceOf(Verdict.Rejected.class, v.validate(new RawRecord(null, bytes, "t", 0, 1, ARRIVED), ARRIVED));
        assertTrue(text.reason().contains("promptText has 10000000 characters"), text.reason());
    }
}
