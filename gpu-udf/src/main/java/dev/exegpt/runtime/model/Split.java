package dev.exegpt.runtime.model;

/**
 * How a weight of Hugging Face shape (out features, in features) is cut across tensor-parallel shards.
 * In Megatron's terms OUTPUTS is the column-parallel split and INPUTS the row-parallel one.
 */
public enum Split {
    /** Every shard holds the whole tensor. */
    NONE,
    /** Split the output features (rows of the HF tensor; bias split the same way): q, k, v, fc1 / wi. */
    OUTPUTS,
    /** Split the input features (columns of the HF tensor; bias kept whole, added after the all-reduce): o, fc2 / wo. */
    INPUTS
}
