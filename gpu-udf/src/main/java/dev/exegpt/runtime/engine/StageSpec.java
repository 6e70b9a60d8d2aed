package dev.exegpt.runtime.engine;

import static dev.exegpt.runtime.Require.require;

/**
 * One pipeline stage of a device group: a tensor-parallel group of {@code tpDegree} devices (1: a single device)
 * that runs encode-phase layers [encodeFirst, encodeEnd) and decode-phase layers [decodeFirst, decodeEnd).
 * For T5 the encode range indexes encoder blocks and the decode range decoder blocks; for OPT both index decoder
 * layers (prefill and decode). An empty range means the stage takes no part in that phase.
 */
public record StageSpec(int tpDegree, int encodeFirst, int encodeEnd, int decodeFirst, int decodeEnd) {

    public StageSpec {
        require(tpDegree >= 1, "tpDegree=%s: must be at least 1", tpDegree);
        require(encodeFirst >= 0 && encodeEnd >= encodeFirst, "encode layers [%s, %s): not a range", encodeFirst, encodeEnd);
        require(decodeFirst >= 0 && decodeEnd >= decodeFirst, "decode layers [%s, %s): not a range", decodeFirst, decodeEnd);
        require(encodeEnd > encodeFirst || decodeEnd > decodeFirst, "a stage must hold at least one layer");
    }

    public int numEncodeLayers() { return encodeEnd - encodeFirst; }

    public int numDecodeLayers() { return decodeEnd - decodeFirst; }
}
