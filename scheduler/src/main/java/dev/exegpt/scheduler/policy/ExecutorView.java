package dev.exegpt.scheduler.policy;

/**
 * What a policy may look at when it decides: waiting requests for this executor, its active (decoding) set, and
 * for an encoder executor the decoder side's backlog (active plus requests handed over but not merged yet).
 */
public record ExecutorView(int numWaiting, int numActive, int numDownstreamBacklog, double nowMs) {}
