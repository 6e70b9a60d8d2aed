package dev.exegpt.runtime.model.t5;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.model.FeedForward;
import dev.exegpt.runtime.model.Layer;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;

/** One T5 encoder block: bidirectional self-attention with relative bias, then the feed-forward. */
final class T5EncoderLayer implements Layer {
    private final T5Attention selfAttention;
    private final FeedForward feedForward;

    T5EncoderLayer(ModelConfig c, Weights w, int layer, ShardLayout shard, Ops k) {
        String p = "encoder.block." + layer + ".";
        selfAttention = new T5Attention(c, w, p, 0, T5Attention.Kind.ENCODER_SELF, layer, shard, k);
        feedForward = T5Family.feedForward(c, w, p + "layer.1.", shard, k);
    }

    @Override
    public void forward(StepBatch batch, Ops.Act x) {
        selfAttention.forward(batch, x);
        feedForward.forward(x, batch.numTokens());
    }

    @Override
    public long weightBytes() {
        return selfAttention.weightBytes() + feedForward.weightBytes();
    }
}
