package dev.exegpt.runtime.model;

/** The two phases of generation (PAPER.md §2.4); for decoder-only models ENCODE is the prompt prefill. */
public enum Phase { ENCODE, DECODE }
