package dev.exegpt.runtime.model;

/** One transformer layer as one device holds it (its shard of the weights). */
public interface Layer {

    /** Runs the layer over the rows of the batch; x (numTokens, dModel) is updated in place (residual stream). */
    void forward(StepBatch batch, float[] x);

    /** Bytes of the weights this device holds for the layer. */
    long weightBytes();
}
