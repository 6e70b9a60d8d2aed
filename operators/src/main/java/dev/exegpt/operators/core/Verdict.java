package dev.exegpt.operators.core;

/** What validation decided about one raw record. */
public sealed interface Verdict {

    /** The record is a valid request. */
    record Accepted(ValidRequest request) implements Verdict {}

    /**
     * The record goes to the dead-letter topic.
     *
     * @param stage     {@code decode} (not an InferenceRequest at all) or {@code validate} (a request with bad values)
     * @param reason    what is wrong, naming the field, the value and what was expected
     * @param requestId the request id when the record decoded far enough to have one; null otherwise
     * @param error     the exception behind it, if any
     */
    record Rejected(String stage, String reason, String requestId, Throwable error) implements Verdict {}
}
