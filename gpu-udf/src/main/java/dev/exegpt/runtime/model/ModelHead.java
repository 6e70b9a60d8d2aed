package dev.exegpt.runtime.model;

import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.Matrix;
import java.util.Arrays;

/**
 * The parts of a model outside the layer stack: token (and OPT position) embeddings, the final norms, and the LM
 * head. The engine runs them on its own thread, before the first stage and after the last.
 */
public final class ModelHead {
    private final ModelConfig c;
    private final Kernels k;
    private final float[] embedding;          // (vocab, dModel): OPT embed_tokens, T5 shared
    private final float[] positions;          // OPT: (maxPositions + 2, dModel); T5: null
    private final float[] encoderNorm;        // T5: (dModel); OPT: null
    private final float[] finalNormWeight;    // (dModel)
    private final float[] finalNormBias;      // OPT: (dModel); T5: null
    private final Matrix lmHead;              // (vocab, dModel)
    private final float lmScale;              // T5 with tied embeddings scales by dModel^-0.5 before the head
    private float[] logitsBuffer = new float[0];  // (rows, vocab), reused across steps; engine thread only

    public ModelHead(ModelConfig c, Weights w, Kernels k) {
        this.c = c;
        this.k = k;
        int d = c.dModel();
        int v = c.vocabSize();
        if (c.architecture() == Architecture.OPT) {
            String p = "model.decoder.";
            embedding = w.get(p + "embed_tokens.weight", v, d).data();
            positions = w.get(p + "embed_positions.weight", c.maxPositions() + ModelConfig.OPT_POSITION_OFFSET, d).data();
            encoderNorm = null;
            finalNormWeight = w.vector(p + "final_layer_norm.weight", d, Split.NONE, 0, d);
            finalNormBias = w.vector(p + "final_layer_norm.bias", d, Split.NONE, 0, d);
            lmScale = 1f;
            lmHead = k.prepare(c.tieWordEmbeddings() ? embedding : w.get("lm_head.weight", v, d).data(), v, d);
        } else {
            embedding = w.get("shared.weight", v, d).data();
            positions = null;
            encoderNorm = w.vector("encoder.final_layer_norm.weight", d, Split.NONE, 0, d);
            finalNormWeight = w.vector("decoder.final_layer_norm.weight", d, Split.NONE, 0, d);
            finalNormBias = null;
            lmScale = c.tieWordEmbeddings() ? (float) Math.pow(d, -0.5) : 1f;
            lmHead = k.prepare(c.tieWordEmbeddings() ? embedding : w.get("lm_head.weight", v, d).data(), v, d);
        }
    }

    /** Bytes of embeddings, positions, norms and LM head (the LM head counts even when tied: it is a packed copy). */
    public long weightBytes() {
        long vectors = 4L * c.dModel() * 3;
        return 4L * embedding.length + (positions == null ? 0 : 4L * positions.length) + lmHead.numBytes() + vectors;
    }

    /** x (numTokens, dModel) = embeddings of the tokens (plus OPT's learned positions at startPos + row). */
    public float[] embed(StepBatch b, int[] tokens) {
        int d = c.dModel();
        float[] x = new float[b.numTokens() * d];
        k.embedding(x, embedding, tokens, d);
        if (positions != null) {
            for (int i = 0; i < b.numSequences(); i++) {
                for (int r = 0; r < b.numRows(i); r++) {
                    int row = b.rowStart(i) + r;
                    int pos = b.startPos(i) + r + ModelConfig.OPT_POSITION_OFFSET;
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
        if (finalNormBias != null) k.layerNorm(h, x, finalNormWeight, finalNormBias, rows, d, c.normEps());
        else k.rmsNorm(h, x, finalNormWeight, rows, d, c.normEps());
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
