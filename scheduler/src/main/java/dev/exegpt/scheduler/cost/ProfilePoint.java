package dev.exegpt.scheduler.cost;

import static dev.exegpt.scheduler.Require.require;

/**
 * One measured cost, the plain-record twin of the Avro {@code ProfileEntry} (converted in scheduler.avro).
 *
 * @param batchSize sequences in the step (HEAD: rows through the model head)
 * @param seqLength tokens per sequence (ENCODE) or context tokens (DECODE)
 */
public record ProfilePoint(Phase phase, Operation operation, int batchSize, int seqLength, int numTokens,
                           int tpDegree, long numBytes, double medianMs) {
    public enum Operation { ATTENTION, NON_ATTENTION, LAYER, ALL_REDUCE, PIPELINE_SEND, STATE_TRANSFER, HEAD }

    public ProfilePoint {
        require(medianMs >= 0, "medianMs must be >= 0, got %s", medianMs);
        require(tpDegree >= 1, "tpDegree must be >= 1, got %s", tpDegree);
    }
}
