package dev.exegpt.runtime.model;

/**
 * Rotary position embedding as Hugging Face's Llama applies it ({@code rotate_half}): within each head, element i and
 * element i + headDim/2 form a pair rotated by the angle pos * theta^(-2i/headDim). (The interleaved pairs (2i, 2i+1)
 * of the original paper and of Meta's checkpoints are permuted into this layout by the HF conversion script.) The
 * angles are computed in f32 as transformers computes them, and tabulated once per position up to the model's
 * max_position_embeddings (positions beyond, which only the profiler's grid reaches, are computed when met).
 */
public final class Rope {
    private final int headDim;
    private final int half;
    private final float[] cos;             // (maxPositions, headDim / 2)
    private final float[] sin;             // (maxPositions, headDim / 2)
    private final float[] invFreq;         // (headDim / 2)
    private final int numTabulated;

    public Rope(int headDim, int maxPositions, double theta) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("RoPE: head_dim=" + headDim + " must be even");
        this.headDim = headDim;
        this.half = headDim / 2;
        this.cos = new float[maxPositions * half];
        this.sin = new float[maxPositions * half];
        this.invFreq = new float[half];
        this.numTabulated = maxPositions;
        for (int i = 0; i < half; i++) invFreq[i] = (float) (1.0 / Math.pow(theta, (float) (2 * i) / headDim));
        for (int p = 0; p < maxPositions; p++) angles(p, cos, sin, p * half);
    }

    public int headDim() {
        return headDim;
    }

    /** (headDim / 2): the inverse frequencies, theta^(-2i/headDim) in f32; a device backend computes the angles. */
    public float[] invFreq() {
        return invFreq;
    }

    /** cos and sin of position p's angles into cos[at ..], sin[at ..]. */
    private void angles(int p, float[] cos, float[] sin, int at) {
        for (int i = 0; i < half; i++) {
            float angle = p * invFreq[i];                      // f32 product, as torch's position @ inv_freq
            cos[at + i] = (float) Math.cos(angle);
            sin[at + i] = (float) Math.sin(angle);
        }
    }

    /**
     * Rotates x (numTokens, numHeads * headDim) in place: row r of sequence i sits at position startPos(i) + r - rowStart(i).
     */
    public void apply(float[] x, StepBatch b, int numHeads) {
        int width = numHeads * headDim;
        float[] extraCos = null;                               // only past the table: a step within it allocates nothing
        float[] extraSin = null;
        for (int i = 0; i < b.numSequences(); i++) {
            for (int r = 0; r < b.numRows(i); r++) {
                int row = b.rowStart(i) + r;
                int pos = b.startPos(i) + r;
                float[] cos = this.cos;
                float[] sin = this.sin;
                int at = pos * half;
                if (pos >= numTabulated) {                     // beyond the model's positions (the profiler's grid)
                    if (extraCos == null) {
                        extraCos = new float[half];
                        extraSin = new float[half];
                    }
                    angles(pos, extraCos, extraSin, 0);
                    cos = extraCos;
                    sin = extraSin;
                    at = 0;
                }
                for (int h = 0; h < numHeads; h++) {
                    int off = row * width + h * headDim;
                    for (int j = 0; j < half; j++) {
                        float x1 = x[off + j];
                        float x2 = x[off + j + half];
                        float c = cos[at + j];
                        float s = sin[at + j];
                        x[off + j] = x1 * c - x2 * s;
                        x[off + j + half] = x2 * c + x1 * s;
                    }
                }
            }
        }
    }
}
