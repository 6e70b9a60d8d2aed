package dev.exegpt.runtime.cuda;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.Weights;
import dev.exegpt.runtime.profile.ProfileGrid;
import dev.exegpt.runtime.profile.XProfiler;
import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.ProfileEntry;
import dev.exegpt.schemas.ProfileOperation;
import dev.exegpt.schemas.ProfilePhase;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * XProfiler on the CUDA backend (PAPER.md §3), TP degree 1 (one GPU per engine). The same grid and the same entries as
 * the CPU XProfiler, measured on the whole model resident on the GPU with CUDA events: a step is run with events
 * around its layer loop and around every attention kernel, so LAYER is the layer loop's GPU time divided by the
 * layers, ATTENTION the attention kernels' time per layer, NON_ATTENTION the layer time over sequences of one token,
 * HEAD the rest of a decode step (embedding, final norm, LM head, argmax); STATE_TRANSFER is a sequence's state
 * downloaded to the host and uploaded again (the engine's export and import without the byte encoding), and
 * PIPELINE_SEND a device-to-device copy of an activation block (a hand-off between stages on one GPU). Decode
 * steps run over pool ranges whose caches hold whatever the pool held: the times do not depend on the values.
 */
public final class CudaProfiler {
    private final ModelConfig c;
    private final Weights weights;
    private final Path modelDir;
    private final ProfileGrid grid;
    private final PrintStream log;
    private final List<ProfileEntry> entries = new ArrayList<>();

    public CudaProfiler(Path modelDir, ProfileGrid grid, PrintStream log) throws IOException {
        for (int d : grid.tpDegrees()) {
            if (d != 1) {
                throw new IllegalArgumentException("--tp " + d + ": the CUDA backend runs a model on one GPU (TP degree"
                        + " 1); profile with --tp 1");
            }
        }
        this.modelDir = modelDir;
        this.c = ModelConfig.read(modelDir);
        this.weights = Weights.read(modelDir);
        this.grid = grid;
        this.log = log;
    }

    /** Runs every measurement on GPU {@code gpuIndex} and returns the profile. */
    public Profile run(int gpuIndex) {
        long t0 = System.nanoTime();
        try (CudaModel model = new CudaModel(c, weights, gpuIndex, 8L << 30)) {
            model.setProfiling(true);
            log.printf("[xprofiler] CUDA device %s, weights %d MiB%n", model.deviceName(), model.weightBytes() >> 20);
            warmUp(model);
            int encoderLayers = c.architecture() == Architecture.T5 ? c.numEncoderLayers() : c.numDecoderLayers();
            for (int batch : grid.encodeBatchSizes()) {
                for (int len : grid.encodeSeqLengths()) {
                    if ((long) batch * len > grid.maxEncodeTokens() || len > c.maxPositions() - 1) continue;
                    List<CudaModel.StepTimes> times = repeat(model, batch, len, true);
                    add(ProfilePhase.ENCODE, ProfileOperation.ATTENTION, batch, len, batch * len, 0, times, s -> s.attentionMs() / encoderLayers);
                    add(ProfilePhase.ENCODE, ProfileOperation.LAYER, batch, len, batch * len, 0, times, s -> s.layersMs() / encoderLayers);
                }
            }
            for (int tokens = 16; tokens <= grid.maxEncodeTokens(); tokens *= 4) {
                add(ProfilePhase.ENCODE, ProfileOperation.NON_ATTENTION, tokens, 1, tokens, 0,
                        repeat(model, tokens, 1, true), s -> s.layersMs() / encoderLayers);
            }
            int layers = c.numDecoderLayers();
            for (int batch : grid.decodeBatchSizes()) {
                for (int ctx : grid.decodeContextLengths()) {
                    if (ctx > c.maxPositions() - 2) continue;
                    List<CudaModel.StepTimes> times = repeat(model, batch, ctx, false);
                    add(ProfilePhase.DECODE, ProfileOperation.ATTENTION, batch, ctx, batch, 0, times, s -> s.attentionMs() / layers);
                    add(ProfilePhase.DECODE, ProfileOperation.LAYER, batch, ctx, batch, 0, times, s -> s.layersMs() / layers);
                }
                List<CudaModel.StepTimes> one = repeat(model, batch, 1, false);
                add(ProfilePhase.DECODE, ProfileOperation.NON_ATTENTION, batch, 1, batch, 0, one, s -> s.layersMs() / layers);
            }
            TreeSet<Integer> rowCounts = new TreeSet<>(grid.decodeBatchSizes());
            rowCounts.addAll(grid.encodeBatchSizes());
            for (int rows : rowCounts) {
                add(ProfilePhase.DECODE, ProfileOperation.HEAD, rows, 0, rows, 0, repeat(model, rows, 1, false), CudaModel.StepTimes::headMs);
            }
            profileStateTransfer(model);
            profilePipelineSend(model);
            log.printf("[xprofiler] %d entries in %.1f s%n", entries.size(), (System.nanoTime() - t0) / 1e9);
            long[] memory = model.memoryInfo();
            return XProfiler.header(c, modelDir)
                    .setBackend("cuda")
                    .setDeviceName(model.deviceName())
                    .setWeightBytesPerEncoderLayer(c.architecture() == Architecture.T5 ? 4L * encoderLayerParams() : 0)
                    .setWeightBytesPerDecoderLayer(4L * decoderLayerParams())
                    .setDeviceMemoryBytes(memory[1])
                    .setEntries(entries)
                    .build();
        }
    }

    private long encoderLayerParams() {
        long d = c.dModel();
        return 4 * d * c.innerDim() + (c.gatedGelu() ? 3 : 2) * d * c.ffnDim() + 2 * d;
    }

    private long decoderLayerParams() {
        long d = c.dModel();
        long inner = c.innerDim();
        // OPT: q, k, v, o and fc1, fc2 with their biases, two layer norms; T5: self and cross q, k, v, o, the
        // feed-forward, three RMS norms
        if (c.architecture() == Architecture.OPT) return 4 * d * inner + 2 * d * c.ffnDim() + 3 * inner + c.ffnDim() + 6 * d;
        return 8 * d * inner + (c.gatedGelu() ? 3 : 2) * d * c.ffnDim() + 3 * d;
    }

    /** Every code path once for a few seconds at most, so that lazy module loading and allocation are not timed. */
    private void warmUp(CudaModel model) {
        long t0 = System.nanoTime();
        int len = Math.min(64, c.maxPositions() - 2);
        do {
            step(model, 2, len, true);
            step(model, 8, len, false);
        } while (System.nanoTime() - t0 < Math.min(3000, grid.jitWarmUpMs()) * 1_000_000L);
        log.printf("[xprofiler] warm-up: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    private List<CudaModel.StepTimes> repeat(CudaModel model, int batch, int len, boolean encode) {
        for (int i = 0; i < grid.warmups(); i++) step(model, batch, len, encode);
        List<CudaModel.StepTimes> out = new ArrayList<>();
        for (int i = 0; i < grid.repeats(); i++) out.add(step(model, batch, len, encode));
        return out;
    }

    /**
     * One step over batch sequences: encode of len tokens each, or decode at context len (T5: an encoder output of
     * len tokens too, as the CPU profiler uses). The state ranges are taken from the pool and given back.
     */
    private CudaModel.StepTimes step(CudaModel model, int batch, int len, boolean encode) {
        boolean t5 = c.architecture() == Architecture.T5;
        StateLayout layout = encode
                ? (t5 ? StateLayout.of(c, 1, len) : StateLayout.of(c, len, 0))
                : StateLayout.of(c, len + 1, t5 ? len : 0);
        List<CudaModel.Row> rows = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        try {
            for (int i = 0; i < batch; i++) {
                long at = model.pool().allocate(layout.numBytes());
                if (at < 0) throw new IllegalStateException("profile step of " + batch + " x " + len
                        + " tokens: the state pool is too small");
                offsets.add(at);
                int[] tokens = new int[encode ? len : 1];
                for (int j = 0; j < tokens.length; j++) tokens[j] = (31 * (i + j) + 7) % Math.min(c.vocabSize(), 50257);
                rows.add(new CudaModel.Row(at, layout, tokens, encode ? 0 : len));
            }
            if (encode) model.encode(rows, false);
            else model.decode(rows, false);
            return model.lastStepTimes();
        } finally {
            for (long at : offsets) model.pool().free(at);
        }
    }

    private void profileStateTransfer(CudaModel model) {
        boolean t5 = c.architecture() == Architecture.T5;
        for (int len : grid.encodeSeqLengths()) {
            int p = Math.min(len, c.maxPositions() - 1);
            StateLayout layout = t5 ? StateLayout.of(c, 2, p) : StateLayout.of(c, p + 1, 0);
            long at = model.pool().allocate(layout.numBytes());
            SequenceState host = new SequenceState(c.numDecoderLayers(), c.innerDim(), layout.maxPositions(),
                    layout.encoderLength(), c.dModel());
            host.length = t5 ? 0 : p;                            // after encode: T5 holds the encoder output only
            long moved = 4L * (t5 ? (long) p * c.dModel() : 2L * c.numDecoderLayers() * p * c.innerDim());
            double[] ms = time(() -> {
                model.download(at, layout, host);
                model.upload(at, layout, host);
            });
            model.pool().free(at);
            add(ProfilePhase.ENCODE, ProfileOperation.STATE_TRANSFER, 1, p, p, moved, ms);
        }
    }

    private void profilePipelineSend(CudaModel model) {
        for (int tokens : new int[] {1, 8, 64, 512, 4096}) {
            long floats = (long) tokens * c.dModel();
            long at = model.pool().allocate(8 * floats);
            if (at < 0) continue;
            double[] ms = time(() -> model.copyWithinPool(at / 4, at / 4 + floats, floats));
            model.pool().free(at);
            add(ProfilePhase.DECODE, ProfileOperation.PIPELINE_SEND, 0, 0, tokens, 4 * floats, ms);
        }
    }

    private double[] time(Runnable body) {
        for (int i = 0; i < grid.warmups(); i++) body.run();
        double[] ms = new double[grid.repeats()];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            body.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        return ms;
    }

    private void add(ProfilePhase phase, ProfileOperation op, int batch, int len, int tokens, long bytes,
                     List<CudaModel.StepTimes> times, ToDoubleFunction<CudaModel.StepTimes> part) {
        add(phase, op, batch, len, tokens, bytes, times.stream().mapToDouble(part).toArray());
    }

    private void add(ProfilePhase phase, ProfileOperation op, int batch, int len, int tokens, long bytes, double[] ms) {
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        entries.add(ProfileEntry.newBuilder().setPhase(phase).setOperation(op).setBatchSize(batch).setSeqLength(len)
                .setNumTokens(tokens).setTpDegree(1).setNumBytes(bytes).setMedianMs(median).setMinMs(sorted[0])
                .setMaxMs(sorted[n - 1]).setNumRepeats(n).build());
        log.printf("[xprofiler] %-6s %-14s tp=1 batch=%-3d seq=%-4d tokens=%-5d%s median %.4f ms%n", phase, op, batch,
                len, tokens, bytes > 0 ? String.format(" bytes=%-9d", bytes) : "", median);
    }
}
