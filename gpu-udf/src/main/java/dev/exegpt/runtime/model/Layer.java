package dev.exegpt.runtime.model;

import dev.exegpt.runtime.backend.Ops;

/** One transformer layer as one device holds it (its shard of the weights, prepared by that device's {@link Ops}). */
public interface Layer {

    /** Runs the layer over the rows of the batch; x (numTokens, dModel) is updated in place (residual stream). */
    void forward(StepBatch batch, Ops.Act x);

    /** Bytes of the weights this device holds for the layer. */
    long weightBytes();
}
