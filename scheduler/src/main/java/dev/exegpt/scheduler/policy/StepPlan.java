package dev.exegpt.scheduler.policy;

import static dev.exegpt.scheduler.Require.require;

import java.util.Arrays;

/**
 * What an executor does next (STYLE.md C8: the policy returns data; the driver executes it).
 * ENCODE: encode (prefill) numToEncode waiting requests. DECODE: one decode iteration of the active set, admitting
 * numToEncode waiting requests' prefills into the same iteration (iteration-level batching). MIXED (vLLM V1's step,
 * chunked prefill): one decode token for every active request, then the prompt chunks of {@code chunkTokens}, in order:
 * first the requests whose prefill is under way (a prefix of them, in admission order), then numToEncode newly
 * admitted waiting requests. IDLE: wait for an event.
 *
 * @param chunkTokens MIXED: prompt tokens each chunk computes (each >= 1); empty otherwise
 */
public record StepPlan(Kind kind, int numToEncode, int[] chunkTokens) {
    public enum Kind { ENCODE, DECODE, MIXED, IDLE }

    public StepPlan {
        require(numToEncode >= 0, "numToEncode must be >= 0, got %s", numToEncode);
        require(kind != Kind.ENCODE || numToEncode > 0, "an ENCODE step must encode >= 1 request, got %s", numToEncode);
        chunkTokens = chunkTokens == null ? new int[0] : chunkTokens.clone();
        require(kind == Kind.MIXED || chunkTokens.length == 0, "only a MIXED step carries prompt chunks, got %s", kind);
        require(kind != Kind.MIXED || numToEncode <= chunkTokens.length,
                "a MIXED step admits at most one request per chunk: %s new, %s chunks", numToEncode, chunkTokens.length);
        for (int t : chunkTokens) require(t >= 1, "a prompt chunk must hold >= 1 token, got %s", t);
    }

    public StepPlan(Kind kind, int numToEncode) {
        this(kind, numToEncode, new int[0]);
    }

    public static final StepPlan IDLE = new StepPlan(Kind.IDLE, 0);
    public static final StepPlan DECODE = new StepPlan(Kind.DECODE, 0);

    public static StepPlan encode(int n) {
        return new StepPlan(Kind.ENCODE, n);
    }

    /** A vLLM V1 step: the active set's decode tokens, then these prompt chunks, the last {@code numNew} of them new. */
    public static StepPlan mixed(int numNew, int[] chunkTokens) {
        return new StepPlan(Kind.MIXED, numNew, chunkTokens);
    }

    @Override
    public int[] chunkTokens() {
        return chunkTokens.clone();
    }

    /** Chunks of requests whose prefill was already under way (the rest are new admissions). */
    public int numContinuingChunks() {
        return chunkTokens.length - numToEncode;
    }

    public int numChunkTokens() {
        return Arrays.stream(chunkTokens).sum();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StepPlan p && p.kind == kind && p.numToEncode == numToEncode
                && Arrays.equals(p.chunkTokens, chunkTokens);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * kind.hashCode() + numToEncode) + Arrays.hashCode(chunkTokens);
    }

    @Override
    public String toString() {
        return kind == Kind.MIXED ? "StepPlan[MIXED, new=%d, chunks=%s]".formatted(numToEncode, Arrays.toString(chunkTokens))
                : "StepPlan[%s, %d]".formatted(kind, numToEncode);
    }
}
