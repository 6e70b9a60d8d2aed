package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.cuda.CudaModel;
import dev.exegpt.runtime.cuda.StateLayout;
import dev.exegpt.runtime.kernel.Kernels;
import dev.exegpt.runtime.kernel.ReferenceKernels;
import dev.exegpt.runtime.kernel.VectorKernels;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.ModelHead;
import dev.exegpt.runtime.model.Phase;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.StepBatch;
import dev.exegpt.runtime.model.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model runtime of one device group (DESIGN.md §4). {@link #encode} runs the encoder (T5) or the prompt prefill
 * (OPT) for a ragged batch and admits the sequences; {@link #decode} runs one iteration for every sequence given,
 * each at its own position, and appends the greedy next token. Sequences join and leave between iterations;
 * {@link #release} frees a finished one. State moves between engines with {@link #exportState} and
 * {@link #importState} (WAA: encoder group to decoder group).
 *
 * <p>Every admitted sequence is charged, at admission, the state bytes it may grow to (KV cache for prompt plus
 * max new tokens; T5 adds the encoder output and cross-attention keys and values); an engine whose capacity cannot
 * hold the next sequence rejects it with {@link CapacityExceededException} rather than run out of memory.
 * Bad requests are rejected with {@link InvalidRequestException}; the rest of the batch goes on.
 *
 * <p>Backends: on the CPU the layers run on the engine's device threads ({@link Pipeline}); on CUDA the whole model is
 * resident on one GPU ({@link CudaModel}), sequence state lives in its device pool, and the caller's thread queues
 * each step's kernels and waits once for the next tokens. Admission, accounting and the byte form of state are the
 * same on both.
 *
 * <p>Not thread-safe: one caller thread drives an engine; the engine's own device threads do the work.
 */
public final class Engine implements StepEngine, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

    private final ModelConfig config;
    private final EngineConfig engineConfig;
    private final Kernels headKernels;
    private final ModelHead head;
    private final Pipeline pipeline;
    private final CudaModel cuda;                 // the CUDA backend; null on the CPU
    private final long capacityBytes;
    private long stateBytesInUse;
    private int numHeld;

    /** Loads {@code dir/config.json} and the weights ({@code model.safetensors} or its shards). */
    public static Engine load(Path dir, EngineConfig engineConfig) throws IOException {
        dev.exegpt.runtime.weights.Checkpoints.requireSupported(dir);      // a pytorch_model.bin fails here, not on config.json
        return new Engine(ModelConfig.read(dir), Weights.read(dir), engineConfig);
    }

    public Engine(ModelConfig config, Weights weights, EngineConfig engineConfig) {
        this(config, weights, engineConfig, openCuda(config, weights, engineConfig));
    }

    /**
     * An engine over a model already resident on a GPU (the tests run the CUDA path of the engine over an emulation
     * of the kernels this way). The engine closes the model.
     */
    public Engine(ModelConfig config, EngineConfig engineConfig, CudaModel cuda) {
        this(config, null, engineConfig, java.util.Objects.requireNonNull(cuda, "cuda"));
    }

    /** The CUDA model when the backend resolves to CUDA; null for the CPU. */
    private static CudaModel openCuda(ModelConfig config, Weights weights, EngineConfig engineConfig) {
        Backend backend;
        if (engineConfig.backend() == Backend.AUTO
                && (engineConfig.layout().numDevices() > 1 || engineConfig.referenceKernels())) {
            backend = Backend.CPU;                    // what only the CPU backend runs: TP or pipelines over threads
            LOG.info("backend auto: using the CPU backend for layout {}{} (the CUDA backend runs one GPU)",
                    engineConfig.layout(), engineConfig.referenceKernels() ? " with reference kernels" : "");
        } else {
            backend = engineConfig.backend().resolve();
        }
        if (backend != Backend.CUDA) return null;
        // NOTE(issue 14): CudaModel still holds its own copy of T5 and OPT; other families run on the CPU until the
        // CUDA backend runs the family code over device-resident operations.
        if (config.architecture() != Architecture.T5 && config.architecture() != Architecture.OPT) {
            String family = config.architecture().name().toLowerCase();
            if (engineConfig.backend() == Backend.AUTO) {
                LOG.info("backend auto: using the CPU backend ({} does not run on the CUDA backend yet)", family);
                return null;
            }
            throw new IllegalArgumentException("backend cuda: the CUDA backend runs t5 and opt so far; " + family
                    + " runs with --backend cpu or auto");
        }
        if (engineConfig.layout().numDevices() != 1) {
            throw new IllegalArgumentException("backend cuda: this build runs a device group on one GPU (TP degree"
                    + " 1); layout " + engineConfig.layout() + " asks for " + engineConfig.layout().numDevices()
                    + " devices (use one device, or --backend cpu)");
        }
        return new CudaModel(config, weights, engineConfig.gpuIndex(), engineConfig.kvCacheCapacityBytes());
    }

    private Engine(ModelConfig config, Weights weights, EngineConfig engineConfig, CudaModel cuda) {
        this.config = config;
        this.engineConfig = engineConfig;
        if (cuda != null) {
            this.cuda = cuda;
            this.capacityBytes = cuda.pool().capacityBytes();
            this.headKernels = null;
            this.head = null;
            this.pipeline = null;
            LOG.info("engine: {} {} on CUDA device {}, weights {} MiB, state pool {} MiB", config.architecture(),
                    config.dModel(), cuda.deviceName(), cuda.weightBytes() >> 20, capacityBytes >> 20);
            return;
        }
        this.cuda = null;
        this.capacityBytes = engineConfig.kvCacheCapacityBytes();
        List<StageSpec> specs = engineConfig.layout().stages(config);
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = engineConfig.threadsPerDevice() > 0 ? engineConfig.threadsPerDevice()
                : Math.max(1, cores / engineConfig.layout().numDevices());
        int headThreads = engineConfig.threadsPerDevice() > 0 ? engineConfig.threadsPerDevice() : cores;
        this.headKernels = engineConfig.referenceKernels() ? new ReferenceKernels() : new VectorKernels(headThreads);
        try {
            this.head = new ModelHead(config, weights, headKernels);
            this.pipeline = new Pipeline(config, weights, specs, engineConfig.referenceKernels(), threads);
        } catch (RuntimeException e) {
            headKernels.close();
            throw e;
        }
        LOG.info("engine: {} {} layout {} ({} devices, {} kernel threads each), state capacity {} MiB",
                config.architecture(), config.dModel(), engineConfig.layout(), engineConfig.layout().numDevices(),
                threads, engineConfig.kvCacheCapacityBytes() >> 20);
    }

    public ModelConfig modelConfig() { return config; }

    public EngineConfig engineConfig() { return engineConfig; }

    /** The backend this engine runs on (AUTO resolved). */
    public Backend backend() { return cuda != null ? Backend.CUDA : Backend.CPU; }

    /** Bytes of state this engine may hold: the configured capacity (CUDA: clamped to the device's free memory). */
    public long capacityBytes() { return capacityBytes; }

    /** CUDA backend: GPU time of the last step from CUDA events; NaN on the CPU. */
    public double lastStepGpuMs() { return cuda == null ? Double.NaN : cuda.lastStepMs(); }

    /** Bytes of state charged to the sequences this engine holds. */
    public long stateBytesInUse() { return stateBytesInUse; }

    /** Sequences admitted or imported and not yet released. */
    public int numSequences() { return numHeld; }

    /** Bytes of layer weights per device, in pipeline order, plus (last) the embeddings and LM head. */
    public List<Long> weightBytes() {
        if (cuda != null) return List.of(cuda.weightBytes());
        List<Long> bytes = new ArrayList<>(pipeline.weightBytesPerDevice());
        bytes.add(head.weightBytes());
        return bytes;
    }

    /** State bytes a request would be charged: what admission reserves. */
    public long stateBytesFor(int promptLength, int maxNewTokens) {
        return stateBytesFor(config, promptLength, maxNewTokens);
    }

    /** State bytes a request of a model with {@code config} would be charged, without an engine. */
    public static long stateBytesFor(ModelConfig config, int promptLength, int maxNewTokens) {
        return config.encoderDecoder()
                ? SequenceState.numBytes(config.numDecoderLayers(), config.kvDim(), maxNewTokens, promptLength, config.dModel())
                : SequenceState.numBytes(config.numDecoderLayers(), config.kvDim(), promptLength + maxNewTokens - 1, 0, config.dModel());
    }

    /** Encoder pass (T5) or prompt prefill (OPT) for a ragged batch; see {@link EncodeResult}. */
    public EncodeResult encode(List<GenerationRequest> batch) {
        List<Sequence> admitted = new ArrayList<>();
        Map<String, RuntimeException> rejected = new LinkedHashMap<>();
        for (GenerationRequest r : batch) {
            try {
                admitted.add(admit(r));
            } catch (InvalidRequestException | CapacityExceededException e) {
                LOG.debug("rejected: {}", e.getMessage());
                rejected.put(r.requestId(), e);
            }
        }
        if (admitted.isEmpty()) return new EncodeResult(admitted, rejected);
        if (cuda != null) {
            try {
                cudaStep(admitted, true);
            } catch (RuntimeException e) {
                for (Sequence s : admitted) release(s);
                throw e;
            }
            return new EncodeResult(admitted, rejected);
        }
        try {
            List<Pipeline.Work> works = new ArrayList<>();
            for (List<Sequence> group : microBatches(admitted, Phase.ENCODE)) {
                List<SequenceState> states = new ArrayList<>();
                int[] numRows = new int[group.size()];
                int total = 0;
                for (int i = 0; i < group.size(); i++) {
                    states.add(group.get(i).state);
                    numRows[i] = group.get(i).request().promptTokens().length;
                    total += numRows[i];
                }
                int[] tokens = new int[total];
                int at = 0;
                for (Sequence s : group) {
                    int[] p = s.request().promptTokens();
                    System.arraycopy(p, 0, tokens, at, p.length);
                    at += p.length;
                }
                StepBatch b = new StepBatch(states, numRows, new int[group.size()]);
                works.add(pipeline.submit(Phase.ENCODE, b, head.embed(b, tokens)));
            }
            int g = 0;
            for (List<Sequence> group : microBatches(admitted, Phase.ENCODE)) finishEncode(group, works.get(g++));
        } catch (RuntimeException e) {
            for (Sequence s : admitted) release(s);
            throw e;
        }
        return new EncodeResult(admitted, rejected);
    }

    private void finishEncode(List<Sequence> group, Pipeline.Work work) {
        float[] x = await(work);
        StepBatch b = work.batch;
        if (config.encoderDecoder()) {
            head.finishEncoder(b, x);
            return;
        }
        int d = config.dModel();
        float[] last = new float[group.size() * d];                 // (numSequences, d): each prompt's last row
        for (int i = 0; i < group.size(); i++) {
            System.arraycopy(x, (b.rowStart(i) + b.numRows(i) - 1) * d, last, i * d, d);
            group.get(i).state.length = b.numRows(i);
        }
        appendNext(group, last);
    }

    /**
     * One decode iteration for every sequence given (none finished or released): each feeds its last token (T5's
     * first step: the decoder start token) at its own position, and the greedy next token is appended.
     *
     * @return the new token of each sequence, in order
     */
    public int[] decode(List<Sequence> active) {
        for (Sequence s : active) {
            requireOwned(s);
            if (s.released || s.state == null) throw new IllegalArgumentException("request " + s.requestId()
                    + ": sequence was released or exported; import it to decode");
            if (s.isFinished()) throw new IllegalArgumentException("request " + s.requestId() + ": sequence finished ("
                    + s.finishReason() + "); release it instead of decoding");
        }
        if (cuda != null) return cudaStep(active, false);
        List<List<Sequence>> groups = microBatches(active, Phase.DECODE);
        List<Pipeline.Work> works = new ArrayList<>();
        for (List<Sequence> group : groups) {
            List<SequenceState> states = new ArrayList<>();
            int[] ones = new int[group.size()];
            int[] positions = new int[group.size()];
            int[] tokens = new int[group.size()];
            for (int i = 0; i < group.size(); i++) {
                Sequence s = group.get(i);
                states.add(s.state);
                ones[i] = 1;
                positions[i] = s.state.length;
                boolean first = config.encoderDecoder() && s.numGenerated() == 0;
                tokens[i] = first ? config.decoderStartTokenId() : s.lastToken();
            }
            StepBatch b = new StepBatch(states, ones, positions);
            works.add(pipeline.submit(Phase.DECODE, b, head.embed(b, tokens)));
        }
        int[] next = new int[active.size()];
        int at = 0;
        for (int g = 0; g < groups.size(); g++) {
            float[] x = await(works.get(g));
            for (Sequence s : groups.get(g)) s.state.length++;
            appendNext(groups.get(g), x);
            for (Sequence s : groups.get(g)) next[at++] = s.lastToken();
        }
        return next;
    }

    /**
     * CUDA: one encode (prefill) or decode step over all the sequences on the GPU. T5's encode fills the encoder
     * output and returns no token; the others append each sequence's next token, as the CPU path does.
     */
    private int[] cudaStep(List<Sequence> seqs, boolean encode) {
        List<CudaModel.Row> rows = new ArrayList<>();
        for (Sequence s : seqs) {
            int[] tokens;
            if (encode) {
                tokens = s.request().promptTokens();
            } else {
                boolean first = config.encoderDecoder() && s.numGenerated() == 0;
                tokens = new int[] {first ? config.decoderStartTokenId() : s.lastToken()};
            }
            rows.add(new CudaModel.Row(s.poolOffsetBytes, layoutOf(s), tokens, encode ? 0 : s.state.length));
        }
        CudaModel.Next next = encode ? cuda.encode(rows, engineConfig.keepLogits())
                : cuda.decode(rows, engineConfig.keepLogits());
        if (encode && config.encoderDecoder()) return new int[0];
        int[] out = new int[seqs.size()];
        for (int i = 0; i < seqs.size(); i++) {
            Sequence s = seqs.get(i);
            s.state.length = encode ? rows.get(i).tokens().length : s.state.length + 1;
            if (next.logits() != null) s.lastLogits = next.logits()[i];
            s.append(next.tokens()[i], config.eosTokenId());
            out[i] = s.lastToken();
        }
        return out;
    }

    private static StateLayout layoutOf(ModelConfig c, SequenceState st) {
        return StateLayout.of(c, st.maxPositions, st.encoderLength);
    }

    private StateLayout layoutOf(Sequence s) {
        return layoutOf(config, s.state);
    }

    /** A host SequenceState with full arrays, of the shape of s's (CUDA: for export and import). */
    private SequenceState hostState(Sequence s) {
        return new SequenceState(config.numDecoderLayers(), config.kvDim(), s.state.maxPositions,
                s.state.encoderLength, config.dModel());
    }

    private void appendNext(List<Sequence> group, float[] hidden) {
        float[][] logits = engineConfig.keepLogits() ? new float[group.size()][] : null;
        int[] next = head.greedy(hidden, group.size(), logits);
        for (int i = 0; i < group.size(); i++) {
            Sequence s = group.get(i);
            if (logits != null) s.lastLogits = logits[i];
            s.append(next[i], config.eosTokenId());
        }
    }

    /**
     * Runs untimed generation for about {@code ms} milliseconds (batches of 4 prompts from 64 tokens up to the longest
     * the model takes, 8 new tokens each), so that the JIT has compiled encode and decode before real requests pay for
     * it: on this CPU the prefill attention's fast code arrives only after ~12 s of long steps. Returns the requests run.
     */
    public int warmUp(long ms) {
        int maxPrompt = Math.max(8, Math.min(448, config.maxPositions() - 16));
        int vocab = Math.min(config.vocabSize(), 50257);
        long t0 = System.nanoTime();
        int n = 0;
        while (System.nanoTime() - t0 < ms * 1_000_000L) {
            List<GenerationRequest> batch = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                int[] prompt = new int[Math.min(maxPrompt, 64 + 128 * k)];
                for (int j = 0; j < prompt.length; j++) prompt[j] = (31 * (n + j) + 7 * k) % vocab;
                batch.add(new GenerationRequest("warm-up-" + n++, prompt, 8, true));
            }
            generate(batch);
        }
        return n;
    }

    /** Runs requests to completion: encode all, then decode while any runs, dropping finished ones between steps. */
    public EncodeResult generate(List<GenerationRequest> requests) {
        EncodeResult r = encode(requests);
        List<Sequence> active = new ArrayList<>();
        for (Sequence s : r.admitted()) if (!s.isFinished()) active.add(s);
        while (!active.isEmpty()) {
            decode(active);
            active.removeIf(Sequence::isFinished);
        }
        for (Sequence s : r.admitted()) release(s);
        return r;
    }

    /** Frees the state of a sequence (finished, abandoned, or exported). Idempotent. */
    public void release(Sequence s) {
        requireOwned(s);
        if (s.released) return;
        s.released = true;
        if (cuda != null && s.poolOffsetBytes >= 0) {
            cuda.pool().free(s.poolOffsetBytes);
            s.poolOffsetBytes = -1;
        }
        stateBytesInUse -= s.stateBytes;
        numHeld--;
    }

    /** The sequence's request, tokens and state as bytes, for {@link #importState} on another engine. */
    public byte[] exportState(Sequence s) {
        requireOwned(s);
        if (s.released) throw new IllegalArgumentException("request " + s.requestId() + ": sequence was released");
        if (cuda != null) {
            SequenceState host = hostState(s);
            host.length = s.state.length;
            cuda.download(s.poolOffsetBytes, layoutOf(s), host);
            return StateCodec.encode(config, s, host);
        }
        return StateCodec.encode(config, s);
    }

    /** Admits a sequence exported by an engine of the same model; charged like an admission. */
    public Sequence importState(byte[] bytes) {
        StateCodec.Decoded d = StateCodec.decode(config, bytes);
        Sequence s = admit(d.request());
        try {
            if (cuda != null) {
                SequenceState host = hostState(s);
                StateCodec.restore(d, s, host);
                cuda.upload(s.poolOffsetBytes, layoutOf(s), host);
            } else {
                StateCodec.restore(d, s);
            }
        } catch (RuntimeException e) {
            release(s);
            throw e;
        }
        return s;
    }

    private void requireOwned(Sequence s) {
        if (s.owner != this) {
            throw new IllegalArgumentException("request " + s.requestId() + ": sequence belongs to another engine;"
                    + " move it with exportState and importState");
        }
    }

    private Sequence admit(GenerationRequest r) {
        validate(r);
        int p = r.promptTokens().length;
        long bytes = stateBytesFor(p, r.maxNewTokens());
        long capacity = capacityBytes;
        if (stateBytesInUse + bytes > capacity) {
            throw new CapacityExceededException(r.requestId(), String.format("needs %d state bytes but only %d of %d"
                    + " are free (%d sequences hold the rest)", bytes, capacity - stateBytesInUse, capacity, numHeld));
        }
        int maxPositions = config.encoderDecoder() ? r.maxNewTokens() : p + r.maxNewTokens() - 1;
        int encoderLength = config.encoderDecoder() ? p : 0;
        long poolOffset = -1;
        SequenceState state;
        if (cuda != null) {
            // the arrays live in the device pool; the host keeps only the shape and the cached length
            poolOffset = cuda.pool().allocate(bytes);
            if (poolOffset < 0) {
                throw new CapacityExceededException(r.requestId(), String.format("needs %d state bytes; %d are free"
                        + " on the device but no free range is that large (largest %d)", bytes,
                        cuda.pool().freeBytes(), cuda.pool().largestFreeBytes()));
            }
            state = new SequenceState(0, 0, maxPositions, encoderLength, 0);
        } else {
            state = new SequenceState(config.numDecoderLayers(), config.kvDim(), maxPositions, encoderLength, config.dModel());
        }
        stateBytesInUse += bytes;
        numHeld++;
        Sequence s = new Sequence(this, r, r.promptTokens().clone(), state, bytes);
        s.poolOffsetBytes = poolOffset;
        return s;
    }

    private void validate(GenerationRequest r) {
        String id = r.requestId();
        int[] p = r.promptTokens();
        if (r.maxNewTokens() <= 0) {
            throw new InvalidRequestException(id, "maxNewTokens=" + r.maxNewTokens() + ": must be at least 1");
        }
        if (p.length == 0) throw new InvalidRequestException(id, "the prompt is empty: at least one token is needed");
        for (int i = 0; i < p.length; i++) {
            if (p[i] < 0 || p[i] >= config.vocabSize()) {
                throw new InvalidRequestException(id, "token id " + p[i] + " at index " + i
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        int limit = config.maxPositions();
        if (!config.encoderDecoder() && p.length + r.maxNewTokens() - 1 > limit) {
            throw new InvalidRequestException(id, "prompt of " + p.length + " tokens plus maxNewTokens="
                    + r.maxNewTokens() + " needs " + (p.length + r.maxNewTokens() - 1) + " positions; the model has "
                    + limit);
        }
        if (config.encoderDecoder() && (p.length > limit || r.maxNewTokens() > limit)) {
            throw new InvalidRequestException(id, "prompt of " + p.length + " tokens and maxNewTokens="
                    + r.maxNewTokens() + ": each must be at most the model's " + limit + " positions");
        }
    }

    /** Splits sequences into contiguous micro-batches: the configured count, or one per stage of the phase. */
    private List<List<Sequence>> microBatches(List<Sequence> seqs, Phase phase) {
        int n = engineConfig.numMicroBatches() > 0 ? engineConfig.numMicroBatches() : pipeline.numStages(phase);
        n = Math.max(1, Math.min(n, seqs.size()));
        List<List<Sequence>> groups = new ArrayList<>();
        for (int g = 0; g < n; g++) groups.add(seqs.subList(seqs.size() * g / n, seqs.size() * (g + 1) / n));
        return groups;
    }

    private static float[] await(Pipeline.Work w) {
        try {
            return w.done.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() {
        if (cuda != null) {
            cuda.close();
            return;
        }
        pipeline.close();
        headKernels.close();
    }
}
