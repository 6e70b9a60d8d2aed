package dev.exegpt.scheduler.sim;

import static dev.exegpt.scheduler.Require.require;

/**
 * One pipeline stage: a single device or a tensor-parallel group of tpDegree devices, holding numPrefillLayers
 * layers used for encoding (prefill) and numDecodeLayers used for decoding. For a decoder-only model under RRA the
 * two counts name the same layers; under WAA an encoder stage has no decode layers and a decoder stage no prefill ones.
 *
 * @param crossNodeAfter the hand-off to the next stage crosses a node boundary (InfiniBand)
 */
public record Stage(int tpDegree, int numPrefillLayers, int numDecodeLayers, boolean crossNodeAfter) {
    public Stage {
        require(tpDegree >= 1, "tpDegree must be >= 1, got %s", tpDegree);
        require(numPrefillLayers >= 0 && numDecodeLayers >= 0 && numPrefillLayers + numDecodeLayers > 0,
                "a stage needs layers, got %s prefill and %s decode", numPrefillLayers, numDecodeLayers);
    }
}
