package dev.exegpt.operators.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import dev.exegpt.schemas.DeadLetter;
import dev.exegpt.schemas.InferenceResult;

/**
 * Makes an answer fit the record size limit of the topic it goes to, so that a sink never throws on it (a sink
 * that throws restarts the job, which reads the same record again: a loop). What does not fit is cut, never
 * dropped, and the record says so: a result loses its metadata first, then its output text, then its output
 * token ids, and is flagged {@code truncated} with the reason; a dead letter keeps its original sizes and the
 * SHA-256 of the value, and loses bytes of its value, key and reason. Pure; the callers encode.
 */
public final class Oversize {

    /** Room left in every budget for what the caller adds around the value (the key, Kafka's record overhead). */
    public static final int RECORD_OVERHEAD_BYTES = 2048;

    /** Longest reason a dead letter keeps, characters. */
    static final int MAX_REASON_CHARS = 4096;

    private Oversize() {}

    /** How many bytes a record takes encoded. */
    public interface Sizer<T> {
        int numBytes(T record);
    }

    /** {@code r}, or a copy cut to at most {@code maxBytes} encoded, flagged and explained. */
    public static InferenceResult fit(InferenceResult r, int maxBytes, Sizer<InferenceResult> size) {
        int original = size.numBytes(r);
        if (original <= maxBytes) {
            return r;
        }
        String why = "the result took " + original + " bytes, over the results topic's limit of " + maxBytes + " bytes: ";
        InferenceResult.Builder b = InferenceResult.newBuilder(r).setTruncated(true);
        Map<String, String> metadata = r.getMetadata();
        if (!metadata.isEmpty()) {
            b.setMetadata(Map.of("exegpt.truncated", metadata.size() + " metadata entries dropped"));
            why += "its " + metadata.size() + " metadata entries were dropped";
            InferenceResult cut = b.setTruncatedReason(why).build();
            if (size.numBytes(cut) <= maxBytes) {
                return cut;
            }
            why += "; ";
        }
        String text = r.getOutputText();
        int keepChars = Math.max(0, Math.min(text.length(), maxBytes / 4 - 1024));   // UTF-8: at most 4 bytes a char
        b.setOutputText(text.substring(0, safeCut(text, keepChars)));
        String whyText = why + "the output text was cut from " + text.length() + " to " + keepChars + " characters";
        InferenceResult cut = b.setTruncatedReason(whyText).build();
        if (size.numBytes(cut) <= maxBytes) {
            return cut;
        }
        List<Integer> ids = r.getOutputTokenIds();
        int keepIds = Math.max(0, Math.min(ids.size(), (maxBytes - 1024) / 5));    // an int takes at most 5 bytes
        b.setOutputText("").setOutputTokenIds(List.copyOf(ids.subList(0, keepIds)));
        cut = b.setTruncatedReason(why + "the output text was dropped and the output token ids cut from " + ids.size() + " to "
                + keepIds).build();
        if (size.numBytes(cut) <= maxBytes) {
            return cut;
        }
        return b.setOutputTokenIds(List.of()).setErrorMessage(cut(r.getErrorMessage(), MAX_REASON_CHARS))
                .setTruncatedReason(why + "the output was dropped").build();
    }

    /**
     * {@code d} with its original sizes and hash, cut to at most {@code maxBytes} encoded where it is larger.
     * The sizes and hash are set whether or not anything is cut.
     */
    public static DeadLetter fit(DeadLetter d, int maxBytes, Sizer<DeadLetter> size) {
        ByteBuffer key = d.getRawKey();
        ByteBuffer value = d.getRawValue();
        DeadLetter.Builder b = DeadLetters.described(DeadLetter.newBuilder(d)).setReason(cut(d.getReason(), MAX_REASON_CHARS));
        b.setTruncated(!b.getReason().equals(d.getReason()));
        DeadLetter whole = b.build();
        int numBytes = size.numBytes(whole);
        if (numBytes <= maxBytes) {
            return whole;
        }
        // Cut the value first (it is what made the record large), then the key; 64 bytes of each always stay.
        int over = numBytes - maxBytes;
        int valueBytes = value == null ? 0 : value.remaining();
        int keepValue = Math.max(Math.min(64, valueBytes), valueBytes - over - 16);
        over -= valueBytes - keepValue;
        int keyBytes = key == null ? 0 : key.remaining();
        int keepKey = over > 0 ? Math.max(Math.min(64, keyBytes), keyBytes - over - 16) : keyBytes;
        b.setTruncated(true)
                .setRawValue(value == null ? null : prefix(value, keepValue))
                .setRawKey(key == null ? null : prefix(key, keepKey))
                .setReason(cut(b.getReason(), 1024)
                        + " [dead letter cut to the topic's limit of " + maxBytes + " bytes: value " + valueBytes + " -> "
                        + keepValue + " bytes, key " + keyBytes + " -> " + keepKey + " bytes]");
        return b.build();
    }

    /** A text cut to at most {@code maxChars} characters (never inside a surrogate pair), marked when cut. */
    public static String cut(String text, int maxChars) {
        if (text == null || text.length() <= maxChars) {
            return text;
        }
        return text.substring(0, safeCut(text, maxChars - 20)) + "... (" + text.length() + " chars)";
    }

    private static int safeCut(String text, int end) {
        return end > 0 && end < text.length() && Character.isHighSurrogate(text.charAt(end - 1)) ? end - 1 : end;
    }

    private static ByteBuffer prefix(ByteBuffer b, int n) {
        byte[] out = new byte[n];
        b.duplicate().get(out);
        return ByteBuffer.wrap(out);
    }

    static String sha256(ByteBuffer bytes) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(bytes.duplicate());
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** The UTF-8 size of a key as a sink writes it. */
    public static int keyBytes(String key) {
        return key == null ? 0 : key.getBytes(StandardCharsets.UTF_8).length;
    }
}
