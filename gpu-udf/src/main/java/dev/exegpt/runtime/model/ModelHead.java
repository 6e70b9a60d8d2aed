package dev.exegpt.runtime.model;

import dev.exegpt.runtime.backend.Ops;

/**
 * The parts of a model outside the layer stack, as its family gives them ({@link HeadWeights}): token (and
 * learned position) embeddings, the final norms, and the LM head, over the operations of one backend. The engine runs
 * them on its own thread, before the first stage and after the last.
 */
public final class ModelHead {
    private final ModelConfig c;
    private final Ops ops;
    private final float[] embedding;          // (vocab, dModel)
    private final float[] positions;          // (maxPositions + positionOffset, dModel) learned positions, or null
    private final int positionOffset;
    private final Norm encoderNorm;           // RMS, for an encoder-decoder; null otherwise
    private final Norm finalNorm;
    private final Ops.Weight lmHead;          // (vocab, dModel)
    private final float lmScale;              // T5 with tied embeddings scales by dModel^-0.5 before the head
    private Ops.Act logits;                   // (rows, vocab), kept across steps; engine thread only
    private long logitsFloats;

    public ModelHead(ModelConfig c, Weights w, Ops ops) {
        this.c = c;
        this.ops = ops;
        HeadWeights h = c.family().head(c, w);
        embedding = h.embedding();
        positions = h.positions();
        positionOffset = h.positionOffset();
        encoderNorm = h.encoderNorm() == null ? null : Norm.rms(h.encoderNorm(), c.normEps());
        finalNorm = h.finalNorm();
        lmScale = h.lmScale();
        lmHead = Weights.prepare(h.lmHead(), ops);
        ops.resident(embedding, positions, h.encoderNorm(), finalNorm.weight(), finalNorm.bias());
    }

    /** Bytes of embeddings, positions, norms and LM head (the LM head counts even when tied: it is a packed copy). */
    public long weightBytes() {
        long vectors = 4L * c.dModel() * 3;
        return 4L * embedding.length + (positions == null ? 0 : 4L * positions.length) + lmHead.numBytes() + vectors;
    }

    /** x (numTokens, dModel) = embeddings of the tokens (plus learned positions at startPos + row, OPT). */
    public Ops.Act embed(StepBatch b, int[] tokens) {
        return ops.embed(b, tokens, embedding, positions, positionOffset, c.dModel());
    }

    /** Encoder-decoder: final encoder norm of x (numTokens, dModel), copied into each sequence's encoder output. */
    public void finishEncoder(StepBatch b, Ops.Act x) {
        Ops.Act h = ops.act((long) b.numTokens() * c.dModel());
        ops.norm(h, x, encoderNorm, b.numTokens());
        ops.storeEncoderOutput(b, h, c.dModel());
    }

    /**
     * Greedy next token of each sequence of the step from the last of its rows of x (numTokens, dModel): a decode
     * step has one row per sequence, a prefill many, into next[i]. When keep is not null, keep[i] receives a copy of
     * sequence i's logits. Calls come from one thread, the engine's.
     */
    public void greedy(StepBatch b, Ops.Act x, float[][] keep, int[] next) {
        greedy(ops.lastRows(b, x, c.dModel()), b.numSequences(), keep, next);
    }

    /** next[r] = the greedy next token of hidden row r of x (rows, dModel). */
    public void greedy(Ops.Act x, int rows, float[][] keep, int[] next) {
        int d = c.dModel();
        Ops.Act h = ops.act((long) rows * d);
        ops.norm(h, x, finalNorm, rows);
        if (lmScale != 1f) ops.scale(h, lmScale, (long) rows * d);
        // A batch of 64 makes 13 MB of logits per step; allocating that anew each step costs G1 humongous regions.
        long floats = (long) rows * c.vocabSize();
        if (logitsFloats < floats) {
            if (logits != null) ops.free(logits);
            logits = ops.buffer(floats);
            logitsFloats = floats;
        }
        ops.linear(logits, h, lmHead, null, rows);
        ops.argmax(logits, rows, c.vocabSize(), keep, next);
    }
}
