package dev.exegpt.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import dev.exegpt.schemas.InferenceRequest;

class RequestJsonTest {

    @Test
    void shouldMapEveryFieldOfAFullLine() {
        InferenceRequest r = RequestJson.parse("""
                {"requestId":"a1","task":"translation","promptText":"Hallo Welt","promptTokenIds":[1,2,3],
                 "maxNewTokens":32,"ignoreEos":true,"sloLatencyMs":1500,"deadlineEpochMs":1700000000000,
                 "clientSentEpochMs":1699999999000,"metadata":{"user":"u7"}}""".replace("\n", ""));
        assertEquals("a1", r.getRequestId());
        assertEquals("translation", r.getTask());
        assertEquals("Hallo Welt", r.getPromptText());
        assertEquals(List.of(1, 2, 3), r.getPromptTokenIds());
        assertEquals(32, r.getMaxNewTokens());
        assertTrue(r.getIgnoreEos());
        assertEquals(1500L, r.getSloLatencyMs());
        assertEquals(1_700_000_000_000L, r.getDeadlineEpochMs());
        assertEquals(1_699_999_999_000L, r.getClientSentEpochMs());
        assertEquals(Map.of("user", "u7"), r.getMetadata());
    }

    @Test
    void formatWritesALineThatParsesBackToTheSameRequest() {
        InferenceRequest full = RequestJson.parse("""
                {"requestId":"a1","task":"S","promptText":"Hallo \\"Welt\\"\\n","promptTokenIds":[1,2,3],"maxNewTokens":7,
                 "ignoreEos":true,"sloLatencyMs":900,"deadlineEpochMs":123,"clientSentEpochMs":45,"metadata":{"k":"v"}}""".replace("\n ", " "));
        assertEquals(full, RequestJson.parse(RequestJson.format(full)));
        InferenceRequest bare = RequestJson.parse("{\"requestId\":\"b\",\"task\":\"S\",\"maxNewTokens\":4}");
        String line = RequestJson.format(bare);
        assertEquals(bare, RequestJson.parse(line));
        assertEquals("{\"requestId\":\"b\",\"task\":\"S\",\"maxNewTokens\":4,\"ignoreEos\":false}", line);
    }

    @Test
    void shouldDefaultOptionalFieldsAndAcceptPromptAsAlias() {
        InferenceRequest r = RequestJson.parse("{\"requestId\":\"b\",\"task\":\"S\",\"prompt\":\"hi\",\"maxNewTokens\":4}");
        assertEquals("hi", r.getPromptText());
        assertNull(r.getPromptTokenIds());
        assertNull(r.getSloLatencyMs());
        assertFalse(r.getIgnoreEos());
        assertEquals(Map.of(), r.getMetadata());
    }

    @Test
    void shouldPassValuesThroughForTheJobToJudge() {
        // A negative max is the job's to dead-letter, not the producer's to drop.
        assertEquals(-3, RequestJson.parse("{\"requestId\":\"c\",\"task\":\"nope\",\"maxNewTokens\":-3}").getMaxNewTokens());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"task\":\"S\",\"maxNewTokens\":4}                              | missing required field \"requestId\"",
        "{\"requestId\":7,\"task\":\"S\",\"maxNewTokens\":4}              | field \"requestId\": expected a string, got 7",
        "{\"requestId\":\"x\",\"task\":\"S\",\"maxNewTokens\":\"4\"}      | field \"maxNewTokens\": expected a 32-bit integer",
        "{\"requestId\":\"x\",\"task\":\"S\",\"maxNewTokens\":4,\"prio\":1} | unknown field \"prio\"",
        "{\"requestId\":\"x\",\"task\":\"S\",\"maxNewTokens\":4,\"promptTokenIds\":[1,\"a\"]} | field \"promptTokenIds[1]\"",
        "[1,2]                                                          | expected a JSON object",
        "{\"requestId\":                                                | not valid JSON",
    })
    void shouldNameTheFieldAndTheExpectationOfABadLine(String line, String expectedMessage) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RequestJson.parse(line));
        assertTrue(e.getMessage().contains(expectedMessage), () -> "message was: " + e.getMessage());
    }
}
