package dev.exegpt.operators.runner;

import dev.exegpt.schemas.Schedule;

import dev.exegpt.operators.core.ValidRequest;

/**
 * An encoded request on its way from an encoder group to a decoder group (WAA): the sequence's state as bytes
 * ({@code Engine.exportState}) and the part of its timeline the encoder saw.
 *
 * @param request            the request
 * @param state              the exported sequence state
 * @param encodeStartEpochMs its encode step began
 * @param encodeEndEpochMs   its encode step ended (the hand-over time counts as decode time)
 * @param firstTokenEpochMs  a decoder-only prefill's first token; NaN for an encoder-decoder model
 * @param encodeBatchSize    requests in its encode step
 * @param schedule           the schedule the encoder group ran it under: the decoder group adopts it too, so a
 *                           schedule published at run time reaches both sides of a replica
 * @param encoderLayout      the encoder group's device layout, for the result's executed layout
 */
public record Handover(ValidRequest request, byte[] state, double encodeStartEpochMs, double encodeEndEpochMs,
                       double firstTokenEpochMs, int encodeBatchSize, Schedule schedule, String encoderLayout) {}
