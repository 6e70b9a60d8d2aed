package dev.exegpt.runtime.model;

/**
 * What a model keeps for one sequence between steps: the self-attention KV cache of every decoder layer and, for
 * T5, the encoder output and the cross-attention keys and values. Arrays are full width (all key/value heads, kvDim =
 * numKvHeads * headDim); a tensor-parallel
 * shard reads and writes only its own heads' columns, so the state is the same under every layout and can be
 * exported as bytes. Allocated once, at admission, for the longest the sequence may grow.
 */
public final class SequenceState {
    /** (numDecoderLayers)(maxPositions, kvDim): self-attention keys and values per decoder layer. */
    public final float[][] selfKeys;
    public final float[][] selfValues;
    /** T5: (encoderLength, dModel) final encoder hidden states; null for decoder-only models. */
    public float[] encoderOutput;
    /** T5: (numDecoderLayers)(encoderLength, kvDim), filled by each decoder layer on the first decode step. */
    public final float[][] crossKeys;
    public final float[][] crossValues;
    public final int encoderLength;
    public final int maxPositions;
    /** Positions already in the self-attention cache. */
    public int length;
    /**
     * Where a device backend keeps this state: the byte offset of its range in the device's pool (the arrays above
     * are then empty); -1 for a state on the host.
     */
    public long poolOffsetBytes = -1;

    public SequenceState(int numDecoderLayers, int kvDim, int maxPositions, int encoderLength, int dModel) {
        this.maxPositions = maxPositions;
        this.encoderLength = encoderLength;
        this.selfKeys = new float[numDecoderLayers][maxPositions * kvDim];
        this.selfValues = new float[numDecoderLayers][maxPositions * kvDim];
        if (encoderLength > 0) {
            this.encoderOutput = new float[encoderLength * dModel];
            this.crossKeys = new float[numDecoderLayers][encoderLength * kvDim];
            this.crossValues = new float[numDecoderLayers][encoderLength * kvDim];
        } else {
            this.crossKeys = null;
            this.crossValues = null;
        }
    }

    /** Bytes held by a state of these dimensions: what the KV-cache accounting charges at admission. */
    public static long numBytes(int numDecoderLayers, int kvDim, int maxPositions, int encoderLength, int dModel) {
        long self = 2L * numDecoderLayers * maxPositions * kvDim;
        long cross = encoderLength == 0 ? 0 : (long) encoderLength * dModel + 2L * numDecoderLayers * encoderLength * kvDim;
        return 4 * (self + cross);
    }
}
