package dev.exegpt.scheduler.plan;

/**
 * What an executor does with a request (PAPER.md §4-5): FULL runs encode and decode on one device group (RRA and
 * the single-group baselines); under WAA (and DISAGGREGATED) an ENCODER group encodes and hands the state over, and
 * a DECODER group imports it and decodes.
 */
public enum Role {
    FULL, ENCODER, DECODER
}
