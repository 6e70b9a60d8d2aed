package dev.exegpt.runtime.cuda;

import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.SequenceState;

/**
 * Where one sequence's state lies in the device pool, in floats from the start of its range: per decoder layer l,
 * the self-attention keys at {@code selfKeys(l)} (maxPositions, kvDim) followed by the values; then, for T5, the
 * encoder output (encoderLength, dModel) and per layer the cross-attention keys (encoderLength, kvDim) followed
 * by the values. The same floats as {@link SequenceState#numBytes} charges, in one range.
 *
 * @param maxPositions self-attention positions the sequence may reach
 * @param encoderLength T5 prompt length; 0 for OPT
 */
public record StateLayout(int numLayers, int kvDim, int dModel, int maxPositions, int encoderLength) {

    public static StateLayout of(ModelConfig c, int maxPositions, int encoderLength) {
        return new StateLayout(c.numDecoderLayers(), c.kvDim(), c.dModel(), maxPositions, encoderLength);
    }

    /** Floats from one layer's self keys to the next layer's. */
    public long selfLayerStride() { return 2L * maxPositions * kvDim; }

    public long selfKeys(int layer) { return layer * selfLayerStride(); }

    public long selfValues(int layer) { return selfKeys(layer) + (long) maxPositions * kvDim; }

    public long encoderOutput() { return numLayers * selfLayerStride(); }

    /** Floats from one layer's cross keys to the next layer's. */
    public long crossLayerStride() { return 2L * encoderLength * kvDim; }

    public long crossKeys(int layer) { return encoderOutput() + (long) encoderLength * dModel + layer * crossLayerStride(); }

    public long crossValues(int layer) { return crossKeys(layer) + (long) encoderLength * kvDim; }

    public long numFloats() {
        return encoderLength == 0 ? encoderOutput() : crossKeys(numLayers);
    }

    public long numBytes() { return 4 * numFloats(); }
}
