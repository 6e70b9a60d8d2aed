package dev.exegpt.scheduler.cost;

/**
 * Analytic cost: every part of a layer takes max(FLOPs / (peak x efficiency), bytes / (bandwidth x efficiency)),
 * plus a fixed per-layer overhead and the layer's tensor-parallel all-reduces (2 per encoder or decoder-only
 * layer, 3 per encoder-decoder decoder layer: PAPER.md §2.4). Attention is counted over the whole context, with
 * FasterTransformer's unfused score matrix for prefill; T5-11B's attention width is numHeads x headDim = 16384.
 */
public final class RooflineCostModel implements CostModel {
    private final ModelSpec model;
    private final DeviceSpec device;
    private final Efficiency eff;

    public RooflineCostModel(ModelSpec model, DeviceSpec device, Efficiency eff) {
        this.model = model;
        this.device = device;
        this.eff = eff;
    }

    public RooflineCostModel(ModelSpec model, DeviceSpec device) {
        this(model, device, Efficiency.CALIBRATED);
    }

    @Override public ModelSpec model() { return model; }

    public DeviceSpec device() { return device; }

    @Override public long deviceMemoryBytes() { return device.memoryBytes(); }

    @Override public String describe() { return "roofline " + device.name(); }

    @Override
    public double layerMs(Phase phase, int batchSize, int seqTokens, int tpDegree) {
        boolean crossAttention = phase == Phase.DECODE && model.encoderDecoder();
        long params = crossAttention ? model.paramsPerDecoderLayer() : model.paramsPerEncoderLayer();
        double tokens = phase == Phase.ENCODE ? (double) batchSize * seqTokens : batchSize;
        double ms = nonAttentionMs(tokens, params, tpDegree);
        ms += attentionMs(phase, batchSize, seqTokens, tpDegree);
        int syncs = crossAttention ? 3 : 2;
        if (tpDegree > 1) {
            ms += syncs * allReduceMs((long) (tokens * model.hiddenSize() * ModelSpec.BYTES_PER_PARAM), tpDegree);
        }
        return ms;
    }

    /**
     * The LM head as one GEMM roofline (vocab x hidden weights, FasterTransformer shards them over the TP group), plus
     * the logits written and read back by the argmax, plus one layer's fixed overhead; the embedding lookup and the
     * final norm are a few hidden vectors per row and are left out.
     */
    @Override
    public double headMs(int numRows, int tpDegree) {
        if (numRows <= 0) return 0;
        double params = (double) model.vocabSize() * model.hiddenSize() / tpDegree;
        double flops = 2.0 * numRows * params;
        double weightBytes = params * ModelSpec.BYTES_PER_PARAM;
        double gemm = Math.max(flops / (device.peakTflops() * 1e9 * eff.gemmCompute()),
                weightBytes / (device.memoryBandwidthGBps() * 1e6 * eff.memory()));
        double logitBytes = 2.0 * numRows * model.vocabSize() / tpDegree * ModelSpec.BYTES_PER_PARAM;
        return gemm + logitBytes / (device.memoryBandwidthGBps() * 1e6 * eff.memory()) + eff.layerOverheadMs();
    }

    /** Projections, feed-forward, norms and residuals of one layer over {@code tokens} tokens. */
    public double nonAttentionMs(double tokens, long paramsPerLayer, int tpDegree) {
        double flops = 2 * tokens * paramsPerLayer / tpDegree;
        double weightBytes = (double) paramsPerLayer * ModelSpec.BYTES_PER_PARAM / tpDegree;
        double gemm = Math.max(flops / (device.peakTflops() * 1e9 * eff.gemmCompute()),
                weightBytes / (device.memoryBandwidthGBps() * 1e6 * eff.memory()));
        // Element-wise traffic: norms, activation, residual; about 10 reads/writes of a hidden vector per token,
        // plus the FFN activation (read and written once, sharded).
        double actBytes = tokens * ModelSpec.BYTES_PER_PARAM
                * (10.0 * model.hiddenSize() + 2.0 * model.ffnSize() * (model.gatedFfn() ? 2 : 1) / tpDegree);
        return gemm + actBytes / (device.memoryBandwidthGBps() * 1e6 * eff.memory()) + eff.layerOverheadMs();
    }

    private double attentionMs(Phase phase, int batchSize, int seqTokens, int tpDegree) {
        double width = (double) model.attentionDim() / tpDegree;
        double heads = (double) model.numHeads() / tpDegree;
        double flops, bytes;
        if (phase == Phase.ENCODE) {
            flops = 4.0 * batchSize * seqTokens * (double) seqTokens * width;
            bytes = ModelSpec.BYTES_PER_PARAM * (3.0 * batchSize * heads * seqTokens * (double) seqTokens
                    + 4.0 * batchSize * seqTokens * width);
        } else {
            flops = 4.0 * batchSize * seqTokens * width;
            double kvWidth = (double) model.kvDim() / tpDegree;                     // fewer under GQA
            bytes = ModelSpec.BYTES_PER_PARAM * 2.0 * batchSize * seqTokens * kvWidth;  // read K and V
        }
        return Math.max(flops / (device.peakTflops() * 1e9 * eff.attentionCompute()),
                bytes / (device.memoryBandwidthGBps() * 1e6 * eff.memory()));
    }

    /** Ring all-reduce: latency + 2 (d-1)/d x bytes / bus bandwidth; over InfiniBand when it spans nodes. */
    public double allReduceMs(long numBytes, int tpDegree) {
        double linkGBps = tpDegree <= device.devicesPerNode() ? device.intraNodeLinkGBps() : device.interNodeLinkGBps();
        return eff.allReduceLatencyMs()
                + 2.0 * (tpDegree - 1) / tpDegree * numBytes / (linkGBps * 1e6 * eff.allReduceBandwidthFraction());
    }

    @Override
    public double pipelineSendMs(long numBytes, boolean crossNode) {
        double linkGBps = crossNode ? device.interNodeLinkGBps() : device.intraNodeLinkGBps();
        return device.linkLatencyMs() + numBytes / (linkGBps * 1e6);
    }

    @Override
    public double stateTransferMs(long numBytes) {
        return 2 * (device.linkLatencyMs() + numBytes / (device.hostLinkGBps() * 1e6));   // GPU -> host -> GPU
    }
}
