package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;

/** One T5 encoder block: bidirectional self-attention with relative bias, then the feed-forward. */
final class T5EncoderLayer implements Layer {
    private final T5Attention selfAttention;
    private final T5FeedForward feedForward;

    T5EncoderLayer(ModelConfig c, Weights w, int layer, ShardLayout shard, Kernels k, AllReduce allReduce) {
        String p = "encoder.block." + layer + ".";
        selfAttention = new T5Attention(c, w, p, 0, T5Attention.Kind.ENCODER_SELF, layer, shard, k, allReduce);
        feedForward = new T5FeedForward(c, w, p + "layer.1.", shard, k, allReduce);
    }

    @Override
    public void forward(StepBatch batch, float[] x) {
        selfAttention.forward(batch, x);
        feedForward.forward(x, batch.numTokens());
    }

    @Override
    public long weightBytes() {
        return selfAttention.weightBytes() + feedForward.weightBytes();
    }
}
