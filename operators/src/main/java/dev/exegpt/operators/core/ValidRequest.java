package dev.exegpt.operators.core;

import dev.exegpt.schemas.InferenceRequest;

/**
 * A request that passed validation, with what the rest of the pipeline needs computed once: the prompt's token
 * ids, the Kafka timestamp every latency is measured from, the SLO that applies, and the estimator's expected
 * output length.
 *
 * @param request                  the request as it arrived (Avro, so Flink serializes it without Kryo)
 * @param promptTokenIds           the prompt as token ids (given, or tokenized from the text)
 * @param arrivedEpochMs           Kafka record timestamp, ms since the Unix epoch; the job's own arrival time when the
 *                                 timestamp was in the future (see {@code clockSkewMs})
 * @param sloLatencyMs             the end-to-end SLO that applies (the request's own, else its task's); 0 if none
 * @param numEstimatedOutputTokens expected output length from the task's observed distribution; 0 until estimated
 * @param clockSkewMs              how far the Kafka timestamp was ahead of the job's clock when the request arrived, ms;
 *                                 0 when it was not (then {@code arrivedEpochMs} is the Kafka timestamp itself)
 */
public record ValidRequest(InferenceRequest request, int[] promptTokenIds, long arrivedEpochMs, long sloLatencyMs,
                           int numEstimatedOutputTokens, long clockSkewMs) {

    /** A request whose timestamp the job's clock agreed with. */
    public ValidRequest(InferenceRequest request, int[] promptTokenIds, long arrivedEpochMs, long sloLatencyMs,
                        int numEstimatedOutputTokens) {
        this(request, promptTokenIds, arrivedEpochMs, sloLatencyMs, numEstimatedOutputTokens, 0);
    }

    public String requestId() {
        return request.getRequestId();
    }

    public String task() {
        return request.getTask();
    }

    public int numInputTokens() {
        return promptTokenIds.length;
    }

    public ValidRequest withEstimatedOutputTokens(int numTokens) {
        return new ValidRequest(request, promptTokenIds, arrivedEpochMs, sloLatencyMs, numTokens, clockSkewMs);
    }
}
