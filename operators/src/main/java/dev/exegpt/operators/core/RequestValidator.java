package dev.exegpt.operators.core;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import dev.exegpt.schemas.InferenceRequest;

/**
 * Decodes and validates one raw record (DESIGN.md §2, "validate"): Avro decoding, then every field against the
 * {@link RequestLimits}. Never throws for bad input: every problem becomes a {@link Verdict.Rejected} with a reason
 * that names the field, the value and what was expected, so that nothing is lost and the job never restarts
 * because of a record. Not thread-safe (it reuses a decoder); one instance per operator subtask.
 */
public final class RequestValidator {

    public static final String STAGE_DECODE = "decode";
    public static final String STAGE_VALIDATE = "validate";

    private final RequestLimits limits;
    private final PromptTokenizer tokenizer;
    private final Map<String, Long> taskSloLatencyMs;
    private final AvroBinary<InferenceRequest> codec = new AvroBinary<>(InferenceRequest.getClassSchema());

    /**
     * @param taskSloLatencyMs the SLO that applies to a task's requests that carry none; tasks not named get none
     */
    public RequestValidator(RequestLimits limits, PromptTokenizer tokenizer, Map<String, Long> taskSloLatencyMs) {
        this.limits = limits;
        this.tokenizer = tokenizer;
        this.taskSloLatencyMs = Map.copyOf(taskSloLatencyMs);
    }

    public Verdict validate(RawRecord raw, long nowEpochMs) {
        if (raw.value() == null || raw.value().length == 0) {
            return reject(STAGE_DECODE, "empty record value: expected an Avro InferenceRequest", null, null);
        }
        InferenceRequest request;
        try {
            request = codec.decode(raw.value());
        } catch (IOException e) {
            return reject(STAGE_DECODE, "value is not an Avro InferenceRequest (" + e.getMessage() + ")", null, e);
        }
        try {
            return check(request, raw.timestampEpochMs(), nowEpochMs);
        } catch (RuntimeException e) {
            // A tokenizer or a check failing on unexpected input is the record's problem, not the job's.
            return reject(STAGE_VALIDATE, "could not validate: " + e, request.getRequestId(), e);
        }
    }

    private Verdict check(InferenceRequest r, long timestampEpochMs, long nowEpochMs) {
        // A timestamp from the future (a producer's clock ahead of the job's) would make latencies negative and
        // count them as met: such a request's clock starts when the job saw it, and the skew is reported. A record
        // without a timestamp (-1) starts then too.
        long clockSkewMs = Math.max(0, timestampEpochMs - nowEpochMs);
        long arrivedEpochMs = timestampEpochMs < 0 || clockSkewMs > 0 ? nowEpochMs : timestampEpochMs;
        String id = r.getRequestId();
        if (id == null || id.isBlank()) {
            return reject(STAGE_VALIDATE, "requestId is empty: expected a non-blank id", null, null);
        }
        if (id.length() > RequestLimits.MAX_REQUEST_ID_CHARS) {
            return reject(STAGE_VALIDATE, "requestId has " + id.length() + " characters: expected at most "
                    + RequestLimits.MAX_REQUEST_ID_CHARS, id.substring(0, 64) + "...", null);
        }
        if (id.indexOf(REPLACEMENT_CHAR) >= 0 || id.chars().anyMatch(Character::isISOControl)) {
            return reject(STAGE_VALIDATE, "requestId '" + printable(id) + "' has control characters or bytes that are not UTF-8: "
                    + "expected printable UTF-8 text", printable(id), null);
        }
        if (!hasVisibleCharacter(id)) {
            return reject(STAGE_VALIDATE, "requestId '" + printable(id) + "' has no visible character (only spaces, format or "
                    + "filler characters): expected an id a person can read", printable(id), null);
        }
        if (!limits.knownTasks().contains(r.getTask())) {
            return reject(STAGE_VALIDATE, "task '" + r.getTask() + "' is unknown: expected one of "
                    + limits.knownTasks().stream().sorted().toList(), id, null);
        }
        long metadataChars = 0;
        for (Map.Entry<String, String> e : r.getMetadata().entrySet()) {
            metadataChars += e.getKey().length() + (e.getValue() == null ? 0 : e.getValue().length());
        }
        if (metadataChars > RequestLimits.MAX_METADATA_CHARS) {
            return reject(STAGE_VALIDATE, "metadata has " + r.getMetadata().size() + " entries of " + metadataChars
                    + " characters in all: expected at most " + RequestLimits.MAX_METADATA_CHARS + " (it travels with the request"
                    + " and comes back in its result)", id, null);
        }
        int maxNew = r.getMaxNewTokens();
        if (maxNew < 1 || maxNew > limits.maxNewTokensLimit()) {
            return reject(STAGE_VALIDATE, "maxNewTokens is " + maxNew + ": expected 1.." + limits.maxNewTokensLimit(), id, null);
        }
        Long slo = r.getSloLatencyMs();
        if (slo != null && (slo < 1 || slo > limits.maxSloLatencyMs())) {
            return reject(STAGE_VALIDATE, "sloLatencyMs is " + slo + ": expected 1.." + limits.maxSloLatencyMs()
                    + " ms (or null for the task's SLO)", id, null);
        }
        Long deadline = r.getDeadlineEpochMs();
        if (deadline != null && deadline <= arrivedEpochMs) {
            return reject(STAGE_VALIDATE, "deadlineEpochMs " + deadline + " is not after the request's arrival at "
                    + arrivedEpochMs + ": expected a future deadline (or null)", id, null);
        }
        String text = r.getPromptText();
        boolean fromText = r.getPromptTokenIds() == null || r.getPromptTokenIds().isEmpty();
        if (text != null && fromText && text.length() > (long) limits.maxPromptTokens() * MAX_CHARS_PER_TOKEN) {
            // Too long whatever the tokenizer makes of it: refused before tokenizing megabytes of text.
            return reject(STAGE_VALIDATE, "promptText has " + text.length() + " characters: at most " + MAX_CHARS_PER_TOKEN
                    + " per token, that is more than the model's " + limits.maxPromptTokens() + " prompt tokens", id, null);
        }
        if (text != null && fromText && text.indexOf(REPLACEMENT_CHAR) >= 0) {
            return reject(STAGE_VALIDATE, "promptText has bytes that are not UTF-8 (decoded as U+FFFD at character "
                    + text.indexOf(REPLACEMENT_CHAR) + "): expected UTF-8 text", id, null);
        }
        int[] prompt = promptTokens(r);
        if (prompt == null) {
            return reject(STAGE_VALIDATE, "prompt is empty: expected non-blank promptText or non-empty promptTokenIds", id, null);
        }
        String tokenProblem = checkTokens(prompt, maxNew);
        if (tokenProblem != null) {
            return reject(STAGE_VALIDATE, tokenProblem, id, null);
        }
        long appliedSlo = slo != null ? slo : taskSloLatencyMs.getOrDefault(r.getTask(), 0L);
        return new Verdict.Accepted(new ValidRequest(r, prompt, arrivedEpochMs, appliedSlo, 0, clockSkewMs));
    }

    /** Characters a BPE or SentencePiece token spans at most (GPT-2's longest tokens are runs of 64-128 characters). */
    static final int MAX_CHARS_PER_TOKEN = 256;

    /**
     * Whether a person could see the id: at least one letter, digit, punctuation or symbol that is not a blank
     * filler. Spaces, format characters (zero-width space and joiners, bidi marks, the BOM, soft hyphen, tags),
     * combining marks alone, variation selectors and fillers (Hangul fillers, the braille blank) do not count.
     */
    static boolean hasVisibleCharacter(String id) {
        return id.codePoints().anyMatch(RequestValidator::isVisible);
    }

    private static boolean isVisible(int c) {
        return switch (Character.getType(c)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER, Character.DECIMAL_DIGIT_NUMBER,
                 Character.LETTER_NUMBER, Character.OTHER_NUMBER, Character.CONNECTOR_PUNCTUATION,
                 Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION,
                 Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL ->
                    !BLANK_FILLERS.contains(c);
            default -> false;
        };
    }

    /** Letters and symbols that render as blank space (Unicode's Default_Ignorable fillers and the braille blank). */
    private static final java.util.Set<Integer> BLANK_FILLERS = java.util.Set.of(0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x17B4, 0x17B5);

    /** What Avro (like every Java decoder) makes of bytes that are not UTF-8. */
    private static final char REPLACEMENT_CHAR = '\uFFFD';

    /**
     * The id as a reason and a dead letter's key show it: cut to 64 code points, every character a person could not
     * see (controls, format and filler characters, spaces other than U+0020) escaped as \\uXXXX.
     */
    private static String printable(String id) {
        StringBuilder out = new StringBuilder();
        id.codePoints().limit(64).forEach(c -> {
            if (c == ' ' || isVisible(c)) {
                out.appendCodePoint(c);
            } else {
                out.append(c > 0xFFFF ? String.format("\\U%08x", c) : String.format("\\u%04x", c));
            }
        });
        return out.toString();
    }

    private int[] promptTokens(InferenceRequest r) {
        List<Integer> ids = r.getPromptTokenIds();
        if (ids != null && !ids.isEmpty()) {
            int[] tokens = new int[ids.size()];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = ids.get(i);
            }
            return tokens;
        }
        String text = r.getPromptText();
        if (text == null || text.isBlank()) {
            return null;
        }
        int[] tokens = tokenizer.encode(text);
        return tokens.length == 0 ? null : tokens;
    }

    private String checkTokens(int[] prompt, int maxNew) {
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= limits.vocabSize()) {
                return "promptTokenIds[" + i + "] is " + prompt[i] + ": expected a token id in 0.." + (limits.vocabSize() - 1);
            }
        }
        if (prompt.length > limits.maxPromptTokens()) {
            return "prompt has " + prompt.length + " tokens: expected at most " + limits.maxPromptTokens();
        }
        if (limits.maxTotalTokens() > 0 && prompt.length + maxNew > limits.maxTotalTokens()) {
            return "prompt (" + prompt.length + " tokens) plus maxNewTokens (" + maxNew + ") is "
                    + (prompt.length + maxNew) + ": expected at most the model's " + limits.maxTotalTokens() + " positions";
        }
        return null;
    }

    private static Verdict.Rejected reject(String stage, String reason, String requestId, Throwable error) {
        return new Verdict.Rejected(stage, reason, requestId, error);
    }
}
