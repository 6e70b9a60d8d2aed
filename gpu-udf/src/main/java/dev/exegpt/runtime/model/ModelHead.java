package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.Matrix;
import java.util.Arrays;

/**
 * The parts of a model outside the layer stack, as its family gives them ({@link HeadWeights}): token (and
 * learned position) embeddings, the final norms, and the LM head. The engine runs them on its own thread, before the first stage and after the last.
 */
public final class ModelHead {
    private final ModelConfig c;
    private final Kernels k;
    private final float[] embedding;          // (vocab, dModel)
    private final float[] positions;          // (maxPositions + positionOffset, dModel) learned positions, or null
    private final int positionOffset;
    private final float[] encoderNorm;        // (dModel) for an encoder-decoder; null otherwise
    private final Norm finalNorm;
    private final Matrix lmHead;              // (vocab, dModel)
    private final float lmScale;              // T5 with tied embeddings scales by dModel^-0.5 before the head
    private float[] logitsBuffer = new float[0];  // (rows, vocab), reused across steps; engine thread only

    public ModelHead(ModelConfig c, Weights w, Kernels k) {
        this.c = c;
        this.k = k;
        HeadWeights h = c.family().head(c, w);
        embedding = h.embedding();
        positions = h.positions();
        positionOffset = h.positionOffset();
        encoderNorm = h.encoderNorm();
        finalNorm = h.finalNorm();
        lmScale = h.lmScale();
        lmHead = k.prepare(h.lmHead(), c.vocabSize(), c.dModel());
    }

    /** Bytes of embeddings, positions, norms and LM head (the LM head counts even when tied: it is a packed copy). */
    public long weightBytes() {
        long vectors = 4L * c.dModel() * 3;
        return 4L * embedding.length + (positions == null ? 0 : 4L * positions.length) + lmHead.numBytes() + vectors;
    }

    /** x (numTokens, dModel) = embeddings of the tokens (plus learned positions at startPos + row, OPT). */
    public float[] embed(StepBatch b, int[] tokens) {
        int d = c.dModel();
        float[] x = new float[b.numTokens() * d];
        k.embedding(x, embedding, tokens, d);
        if (positions != null) {
            for (int i = 0; i < b.numSequences(); i++) {
                for (int r = 0; r < b.numRows(i); r++) {
                    int row = b.rowStart(i) + r;
                    int pos = b.startPos(i) + r + positionOffset;
                    for (int j = 0; j < d; j++) x[row * d + j] += positions[pos * d + j];
                }
            }
        }
        return x;
    }

    /** T5: final encoder norm of x (numTokens, dModel), copied into each sequence's encoder output. */
    public void finishEncoder(StepBatch b, float[] x) {
        int d = c.dModel();
        float[] h = new float[x.length];
        k.rmsNorm(h, x, encoderNorm, b.numTokens(), d, c.normEps());
        for (int i = 0; i < b.numSequences(); i++) {
            System.arraycopy(h, b.rowStart(i) * d, b.state(i).encoderOutput, 0, b.numRows(i) * d);
        }
    }

    /** logits (rows, vocab) of the hidden rows x (rows, dModel): final norm, then the LM head (a new array). */
    public float[] logits(float[] x, int rows) {
        return Arrays.copyOf(logitsInto(x, rows), rows * c.vocabSize());
    }

    /**
     * Greedy next token of each hidden row x (rows, dModel). The logits go to a buffer this head keeps and reuses
     * (a batch of 64 makes 13 MB of logits per step; allocating that anew each step costs G1 humongous regions), so
     * calls must come from one thread, the engine's. When keep is not null, keep[r] receives a copy of row r's logits.
     */
    public int[] greedy(float[] x, int rows, float[][] keep) {
        int v = c.vocabSize();
        float[] logits = logitsInto(x, rows);
        int[] next = new int[rows];
        for (int r = 0; r < rows; r++) {
            next[r] = k.argmax(logits, r * v, v);
            if (keep != null) keep[r] = Arrays.copyOfRange(logits, r * v, (r + 1) * v);
        }
        return next;
    }

    private float[] logitsInto(float[] x, int rows) {
        int d = c.dModel();
        if (logitsBuffer.length < rows * c.vocabSize()) logitsBuffer = new float[rows * c.vocabSize()];
        float[] h = new float[rows * d];
        finalNorm.apply(k, h, x, rows);
        if (lmScale != 1f) for (int i = 0; i < h.length; i++) h[i] *= lmScale;
        k.linear(logitsBuffer, h, lmHead, null, rows);
        return logitsBuffer;
    }

    /** Greedy choice for each row of logits (rows, vocab). */
    public int[] argmax(float[] logits, int rows) {
        int[] next = new int[rows];
        for (int r = 0; r < rows; r++) next[r] = k.argmax(logits, r * c.vocabSize(), c.vocabSize());
        return next;
    }
}
