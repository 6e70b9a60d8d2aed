package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.cost.ModelSpec;

/**
 * Per-device memory of a pipeline (PAPER.md §17 [choice]: explicit KV feasibility): each stage's weights, split over
 * its TP devices, plus the KV cache of its decode layers for the resident tokens. The embedding and LM head sit on
 * the first and last stage. Under RRA a decoder-only model's prefill and decode layers are the same weights; under
 * WAA the encoder group holds its own copy (the paper's "two copies", PAPER.md §2.4).
 */
final class Memory {
    private Memory() {}

    /**
     * @param sharedLayers  prefill and decode layer counts name the same weights (decoder-only under RRA/STATIC/CONTINUOUS)
     * @param residentTokens KV tokens resident in every decode layer (batch x context)
     */
    static long peakBytes(Pipeline p, ModelSpec m, boolean sharedLayers, double residentTokens) {
        long peak = 0;
        int n = p.stages().size();
        for (int i = 0; i < n; i++) {
            Stage s = p.stages().get(i);
            long prefillParams = m.encoderDecoder() ? m.paramsPerEncoderLayer() : m.paramsPerDecoderLayer();
            long params = (long) s.numDecodeLayers() * m.paramsPerDecoderLayer()
                    + (sharedLayers && !m.encoderDecoder() ? 0 : (long) s.numPrefillLayers() * prefillParams);
            if (i == 0 || i == n - 1) params += m.paramsOther();
            double kv = residentTokens * s.numDecodeLayers() * m.kvBytesPerTokenPerLayer();
            long bytes = (long) ((params * ModelSpec.BYTES_PER_PARAM + kv) / s.tpDegree());
            peak = Math.max(peak, bytes);
        }
        return peak;
    }

    static String describe(long needBytes, long haveBytes) {
        return "memory: %.1f GiB per device needed, %.1f GiB usable".formatted(needBytes / 1073741824.0, haveBytes / 1073741824.0);
    }
}
