package dev.exegpt.runtime.engine;

/** A request the model cannot run (token outside the vocabulary, prompt too long, no tokens to generate). */
public final class InvalidRequestException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String requestId;

    public InvalidRequestException(String requestId, String message) {
        super("request " + requestId + ": " + message);
        this.requestId = requestId;
    }

    public String requestId() {
        return requestId;
    }
}
