package dev.exegpt.runtime.backend;

import dev.exegpt.runtime.model.AttentionOps;
import dev.exegpt.runtime.model.Norm;
import dev.exegpt.runtime.model.PositionBias;
import dev.exegpt.runtime.model.Rope;
import dev.exegpt.runtime.model.ShardLayout;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.weights.DType;

/**
 * The operations a family's forward pass is written over (ARCHITECTURE.md move 2): the family code in
 * {@code model/} says what to compute once, and a backend says where. {@code CpuOps} runs them on host arrays with the
 * Vector API kernels, one instance per device thread; {@code CudaOps} queues them as kernel launches on one GPU with
 * every tensor resident there, so a step costs one host wait (in {@link #argmax}).
 *
 * <p>Tensors are opaque handles: {@link Weight} (a matrix prepared once at load time), {@link Act} (activations of a
 * step). Small parameters (norm weights, biases, position tables) are passed as the host arrays the family read; a
 * device backend uploads each array once, the first time it meets it, and keeps it. Shapes are (rows, columns),
 * row-major, as in {@link dev.exegpt.runtime.kernel.Kernels}. Key/value caches belong to the sequences of the step
 * ({@link StepBatch#state}); where they live is the backend's business.
 */
public interface Ops extends AutoCloseable {

    /** A weight matrix (out, in) in the Hugging Face layout, prepared for {@link #linear}. */
    interface Weight {
        long numBytes();
    }

    /** Activations (a row-major block of floats) of the current step. */
    interface Act {}

    /** Element-wise functions between projections. */
    enum Fn {
        RELU, GELU, SILU
    }

    /** A short name for logs, e.g. {@code cpu vector(4 threads)}. */
    String name();

    /** Prepares w (rows, cols) for {@link #linear}; done once at load. */
    Weight weight(float[] w, int rows, int cols);

    /**
     * As {@link #weight(float[], int, int)} for a 16-bit weight (F16 or BF16 patterns, row-major): the CPU keeps it in
     * 16 bits and widens in registers; a backend without 16-bit kernels widens it here (the default).
     */
    default Weight weight16(short[] bits, DType dtype, int rows, int cols) {
        return weight(dtype.widen(bits), rows, cols);
    }

    /** An activation block of floats, valid until {@link #endStep}; its contents are undefined until written. */
    Act act(long floats);

    /**
     * Makes host parameter arrays (norm weights, biases, embedding and position tables, RoPE frequencies) resident
     * now, at load: a device backend uploads them here rather than in the middle of the first step, where the weights'
     * memory would be counted too late. Null arrays are skipped. The CPU reads them where they are.
     */
    default void resident(float[]... params) {}

    /** The same for a position bias's table and bucket map. */
    default void resident(PositionBias bias) {}

    /** A zeroed block of floats kept across steps until {@link #free}d (a buffer reused step after step). */
    Act buffer(long floats);

    /** Releases a {@link #buffer}. */
    void free(Act buffer);

    /** out (m, w.rows) = a (m, w.cols) @ w^T + bias; bias may be null. */
    void linear(Act out, Act a, Weight w, float[] bias, int m);

    /**
     * outs[i] (m, ws[i].rows) = a @ ws[i]^T + biases[i] for every i: the projections of one input (query, key and value;
     * a gated feed-forward's two), which the CPU runs as one parallel loop. biases, or any entry, may be null.
     */
    default void linears(Act[] outs, Act a, Weight[] ws, float[][] biases, int m) {
        for (int i = 0; i < ws.length; i++) linear(outs[i], a, ws[i], biases == null ? null : biases[i], m);
    }

    /**
     * The residual projection that ends every sub-layer: x (m, w.rows) += allReduce(a @ w^T) + bias. Under tensor
     * parallelism w is split by inputs, so each shard's product is partial and the shards' sums meet before the bias.
     */
    void residual(Act x, Act a, Weight w, float[] bias, int m);

    /** out (rows, norm.dim) = norm of x. */
    void norm(Act out, Act x, Norm norm, int rows);

    /** x[i] *= s for i in [0, len). */
    void scale(Act x, float s, long len);

    /** x[i] = fn(x[i]) for i in [0, len). */
    void apply(Fn fn, Act x, long len);

    /** x[i] = fn(x[i]) * gate[i] for i in [0, len): a gated feed-forward's product (gated-GELU, SwiGLU). */
    void gated(Fn fn, Act x, Act gate, long len);

    /** Rotates x (numTokens, numHeads * headDim) in place at each row's position ({@link Rope}). */
    void rope(Act x, StepBatch b, int numHeads, Rope rope);

    /** Writes k and v (numTokens, localKvInner) at each row's position into the sequences' caches of this layer. */
    void writeSelfCache(StepBatch b, ShardLayout shard, int layer, Act k, Act v);

    /**
     * For each sequence on its first decode step (startPos 0): its cross-attention keys and values of this layer,
     * projected from its encoder output by wk and wv (encoder-decoder families).
     */
    void fillCrossCache(StepBatch b, ShardLayout shard, int layer, Weight wk, Weight wv);

    /**
     * out (numTokens, localInner) = attention of q over the keys of source (any number of key/value heads, see
     * {@link ShardLayout#kvHeadOf}); localK and localV (numTokens, localKvInner) only for
     * {@link AttentionOps.Source#LOCAL}; bias may be null.
     */
    void attend(StepBatch b, int layer, ShardLayout shard, AttentionOps.Source source, Act q, Act out, Act localK,
                Act localV, float scale, PositionBias bias);

    /**
     * x (numTokens, dim) = rows of table (vocab, dim) for the tokens, plus, when positions is not null, row
     * startPos + r + positionOffset of the learned position table for row r of each sequence.
     */
    Act embed(StepBatch b, int[] tokens, float[] table, float[] positions, int positionOffset, int dim);

    /** Copies h (numTokens, dim) into each sequence's encoder output. */
    void storeEncoderOutput(StepBatch b, Act h, int dim);

    /** (numSequences, dim): the last row of each sequence of x (numTokens, dim). */
    Act lastRows(StepBatch b, Act x, int dim);

    /**
     * next[r] = the greedy choice of row r of logits (rows, vocab); when keep is not null, keep[r] receives a copy of
     * row r. On a device this is where the host waits for the step.
     */
    void argmax(Act logits, int rows, int vocab, float[][] keep, int[] next);

    /**
     * The step is over and its results are on the host: its activations and metadata may be reused. A device backend
     * recycles its step memory here; the CPU has nothing to do.
     */
    default void endStep() {}

    /** Releases threads or device memory this instance owns. */
    @Override
    default void close() {}
}
