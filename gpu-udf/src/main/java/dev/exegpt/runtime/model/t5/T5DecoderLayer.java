package dev.exegpt.runtime.model.t5;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.model.FeedForward;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;

/** One T5 decoder block: causal self-attention over the cache, cross-attention to the encoder, feed-forward. */
final class T5DecoderLayer implements Layer {
    private final T5Attention selfAttention;
    private final T5Attention crossAttention;
    private final FeedForward feedForward;

    T5DecoderLayer(ModelConfig c, Weights w, int layer, ShardLayout shard, Ops k) {
        String p = "decoder.block." + layer + ".";
        selfAttention = new T5Attention(c, w, p, 0, T5Attention.Kind.DECODER_SELF, layer, shard, k);
        crossAttention = new T5Attention(c, w, p, 1, T5Attention.Kind.CROSS, layer, shard, k);
        feedForward = T5Family.feedForward(c, w, p + "layer.2.", shard, k);
    }

    @Override
    public void forward(StepBatch batch, Ops.Act x) {
        selfAttention.forward(batch, x);
        crossAttention.forward(batch, x);
        feedForward.forward(x, batch.numTokens());
    }

    @Override
    public long weightBytes() {
        return selfAttention.weightBytes() + crossAttention.weightBytes() + feedForward.weightBytes();
    }
}
