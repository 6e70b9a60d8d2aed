package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;

/** Builds the layer a device holds for a phase: T5 encoder or decoder block, or an OPT layer for either phase. */
public final class Layers {
    private Layers() {}

    /** Layer {@code index} of the stack that runs {@code phase}, sharded per {@code shard}. */
    public static Layer create(ModelConfig c, Weights w, Phase phase, int index, ShardLayout shard, Kernels k,
                               AllReduce allReduce) {
        if (c.architecture() == Architecture.OPT) return new OptLayer(c, w, index, shard, k, allReduce);
        return phase == Phase.ENCODE
                ? new T5EncoderLayer(c, w, index, shard, k, allReduce)
                : new T5DecoderLayer(c, w, index, shard, k, allReduce);
    }

    /** Layers in the stack that runs phase: encoder layers for T5 ENCODE, decoder layers otherwise. */
    public static int numLayers(ModelConfig c, Phase phase) {
        return c.architecture() == Architecture.T5 && phase == Phase.ENCODE ? c.numEncoderLayers() : c.numDecoderLayers();
    }
}
