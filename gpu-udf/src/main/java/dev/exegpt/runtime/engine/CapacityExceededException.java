package dev.exegpt.runtime.engine;

/** The engine's state capacity cannot hold another sequence; retry after sequences are released. */
public final class CapacityExceededException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    private final String requestId;

    public CapacityExceededException(String requestId, String message) {
        super("request " + requestId + ": " + message);
        this.requestId = requestId;
    }

    public String requestId() {
        return requestId;
    }
}
