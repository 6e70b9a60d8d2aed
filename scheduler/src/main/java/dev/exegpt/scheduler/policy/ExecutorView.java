package dev.exegpt.scheduler.policy;

/**
 * What a policy may look at when it decides: waiting requests for this executor (and the input lengths of the
 * first few, for workload-based batching), its active (decoding) set, and for an encoder executor the decoder
 * side's backlog (active plus requests handed over but not merged yet; not those still inside the encoder).
 *
 * @param headInputTokens        input lengths of the first waiting requests, in queue order (may be shorter than
 *                               numWaiting)
 * @param prefillRemainingTokens under chunked prefill: the prompt tokens still to compute of each request whose
 *                               prefill is under way, in admission order (they are running but not yet decoding)
 */
public record ExecutorView(int numWaiting, int numActive, int numDownstreamBacklog, double nowMs, int[] headInputTokens,
                           int[] prefillRemainingTokens) {

    public ExecutorView(int numWaiting, int numActive, int numDownstreamBacklog, double nowMs, int[] headInputTokens) {
        this(numWaiting, numActive, numDownstreamBacklog, nowMs, headInputTokens, new int[0]);
    }

    public ExecutorView(int numWaiting, int numActive, int numDownstreamBacklog, double nowMs) {
        this(numWaiting, numActive, numDownstreamBacklog, nowMs, new int[0]);
    }
}
