package dev.exegpt.scheduler.cost;

/**
 * How long things take (STYLE.md C8): one layer of a phase, a pipeline hand-off, a KV hand-over. Implemented by the
 * profiled table ({@link ProfiledCostModel}) and the analytic roofline ({@link RooflineCostModel}); the simulator and
 * the search see only this interface.
 */
public interface CostModel {

    ModelSpec model();

    /** Memory one device offers for weights and KV cache, bytes. */
    long deviceMemoryBytes();

    /**
     * One layer, including its tensor-parallel all-reduces. ENCODE: batchSize sequences of seqTokens tokens each.
     * DECODE: batchSize sequences, one new token each, attending to seqTokens context tokens on average.
     */
    double layerMs(Phase phase, int batchSize, int seqTokens, int tpDegree);

    /**
     * The model head of one step over {@code numRows} rows, once per step and not per layer: the final norm, the LM
     * head (logits over the vocabulary: a vocab x hidden matrix, for small models as many weight bytes as all the
     * layers together), the greedy argmax and the next token's embedding. A decode iteration pays it once per
     * micro-batch (one row per sequence); a decoder-only prefill pays it once per sequence (its last row); an
     * encoder pays none. {@code tpDegree}: the TP degree of the stage that runs it (the last one).
     */
    double headMs(int numRows, int tpDegree);

    /** Hand-off of activations between consecutive pipeline stages. */
    double pipelineSendMs(long numBytes, boolean crossNode);

    /** Moving encoder state (KV) from an encoder device to a decoder device through host memory (WAA). */
    double stateTransferMs(long numBytes);

    /** A short description for reports, e.g. "roofline a40". */
    String describe();
}
