package dev.exegpt.scheduler.policy;

import static dev.exegpt.scheduler.Require.require;

/**
 * What an executor does next (STYLE.md C8: the policy returns data; the driver executes it).
 * ENCODE: encode (prefill) numToEncode waiting requests. DECODE: one decode iteration of the active set, admitting
 * numToEncode waiting requests' prefills into the same iteration (iteration-level batching); IDLE: wait for an event.
 */
public record StepPlan(Kind kind, int numToEncode) {
    public enum Kind { ENCODE, DECODE, IDLE }

    public StepPlan {
        require(numToEncode >= 0, "numToEncode must be >= 0, got %s", numToEncode);
        require(kind != Kind.ENCODE || numToEncode > 0, "an ENCODE step must encode >= 1 request, got %s", numToEncode);
    }

    public static final StepPlan IDLE = new StepPlan(Kind.IDLE, 0);
    public static final StepPlan DECODE = new StepPlan(Kind.DECODE, 0);

    public static StepPlan encode(int n) {
        return new StepPlan(Kind.ENCODE, n);
    }
}
