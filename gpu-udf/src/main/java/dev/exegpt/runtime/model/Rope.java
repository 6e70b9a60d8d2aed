package dev.exegpt.runtime.model;

/**
 * Rotary position embedding as Hugging Face's Llama applies it ({@code rotate_half}): within each head, element i and
 * element i + headDim/2 form a pair rotated by the angle pos * theta^(-2i/headDim). (The interleaved pairs (2i, 2i+1)
 * of the original paper and of Meta's checkpoints are permuted into this layout by the HF conversion script.) The
 * angles are computed in f32 as transformers computes them, and tabulated once per position.
 */
public final class Rope {
    private final int headDim;
    private final int half;
    private final float[] cos;             // (maxPositions, headDim / 2)
    private final float[] sin;             // (maxPositions, headDim / 2)

    public Rope(int headDim, int maxPositions, double theta) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("RoPE: head_dim=" + headDim + " must be even");
        this.headDim = headDim;
        this.half = headDim / 2;
        this.cos = new float[maxPositions * half];
        this.sin = new float[maxPositions * half];
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) invFreq[i] = (float) (1.0 / Math.pow(theta, (float) (2 * i) / headDim));
        for (int p = 0; p < maxPositions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = p * invFreq[i];                  // f32 product, as torch's position @ inv_freq
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /**
     * Rotates x (numTokens, numHeads * headDim) in place: row r of sequence i sits at position startPos(i) + r - rowStart(i).
     */
    public void apply(float[] x, StepBatch b, int numHeads) {
        int width = numHeads * headDim;
        for (int i = 0; i < b.numSequences(); i++) {
            for (int r = 0; r < b.numRows(i); r++) {
                int row = b.rowStart(i) + r;
                int at = (b.startPos(i) + r) * half;
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
