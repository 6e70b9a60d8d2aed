package dev.exegpt.scheduler.cost;

/** ENCODE: the prompt pass (encoder layers, or prefill through decoder layers); DECODE: one generation step. */
public enum Phase { ENCODE, DECODE }
