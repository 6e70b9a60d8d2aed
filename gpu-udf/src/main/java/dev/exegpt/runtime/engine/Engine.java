package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.backend.Ops;
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
import java.util.concurrent.CompletableFuture;
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
 * <p>The model runs on a {@link ModelRunner}: the family's layers and head over one backend's operations (device
 * threads on the CPU, or one GPU) and the place where states live. Admission, accounting, micro-batches and the byte
 * form of state are written once, here, for every family and backend.
 *
 * <p>Not thread-safe: one caller thread drives an engine; the engine's own device threads do the work.
 */
public final class Engine implements ChunkedPrefillEngine, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

    private final ModelConfig config;
    private final EngineConfig engineConfig;
    private final ModelRunner runner;
    private final ModelHead head;
    private long stateBytesInUse;
    private int numHeld;

    /** Loads {@code dir/config.json} and the weights ({@code model.safetensors} or its shards). */
    public static Engine load(Path dir, EngineConfig engineConfig) throws IOException {
        dev.exegpt.runtime.weights.Checkpoints.requireSupported(dir);      // a pytorch_model.bin fails here, not on config.json
        return new Engine(ModelConfig.read(dir), Weights.read(dir), engineConfig);
    }

    public Engine(ModelConfig config, Weights weights, EngineConfig engineConfig) {
        this(config, engineConfig, ModelRunner.open(config, weights, engineConfig));
    }

    /** An engine over a runner already built (the tests run the CUDA runner over a fake device); it closes it. */
    public Engine(ModelConfig config, EngineConfig engineConfig, ModelRunner runner) {
        this.config = config;
        this.engineConfig = engineConfig;
        this.runner = runner;
        this.head = runner.head();
    }

    public ModelConfig modelConfig() { return config; }

    public EngineConfig engineConfig() { return engineConfig; }

    /** The backend this engine runs on (AUTO resolved). */
    public Backend backend() { return runner.backend(); }

    /** Bytes of state this engine may hold: the configured capacity (CUDA: clamped to the device's free memory). */
    public long capacityBytes() { return runner.capacityBytes(); }

    /** CUDA backend: GPU time of the last step from CUDA events; NaN on the CPU. */
    public double lastStepGpuMs() { return runner.lastStepGpuMs(); }

    /** Bytes of state charged to the sequences this engine holds. */
    public long stateBytesInUse() { return stateBytesInUse; }

    /** Sequences admitted or imported and not yet released. */
    public int numSequences() { return numHeld; }

    /** Bytes of layer weights per device, in pipeline order, plus (last) the embeddings and LM head. */
    public List<Long> weightBytes() {
        return runner.weightBytes();
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
        try {
            List<List<Sequence>> groups = microBatches(admitted, Phase.ENCODE);
            List<StepBatch> batches = new ArrayList<>();
            List<CompletableFuture<Ops.Act>> works = new ArrayList<>();
            for (List<Sequence> group : groups) {
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
                batches.add(b);
                works.add(runner.submit(Phase.ENCODE, b, head.embed(b, tokens)));
            }
            for (int g = 0; g < groups.size(); g++) finishEncode(groups.get(g), batches.get(g), await(works.get(g)));
        } catch (RuntimeException e) {
            for (Sequence s : admitted) release(s);
            throw e;
        } finally {
            runner.endStep();
        }
        return new EncodeResult(admitted, rejected);
    }

    private void finishEncode(List<Sequence> group, StepBatch b, Ops.Act x) {
        if (config.encoderDecoder()) {
            head.finishEncoder(b, x);
            return;
        }
        for (int i = 0; i < group.size(); i++) group.get(i).state.length = b.numRows(i);
        appendNext(group, b, x);                                    // from each prompt's last row
    }

    /**
     * One decode iteration for every sequence given (none finished or released): each feeds its last token (T5's
     * first step: the decoder start token) at its own position, and the greedy next token is appended.
     *
     * <p>A step over the same sequences as the step before allocates nothing on the heap: each micro-batch's step
     * batch, token and position arrays are the engine's, kept from step to step (see {@link DecodeSlot}), and the
     * returned array is too.
     *
     * @return the new token of each sequence, in order; the engine's array, overwritten by the next decode
     */
    public int[] decode(List<Sequence> active) {
        int size = active.size();
        if (size == 0) return new int[0];                           // nothing to run (the head has no rows to take)
        for (int i = 0; i < size; i++) {
            requireRunnable(active.get(i));
        }
        int groups = numMicroBatches(size, Phase.DECODE);
        if (nextTokens.length != size) nextTokens = new int[size];
        int[] next = nextTokens;
        try {
            if (runner.runsOnCaller()) {                            // one device: each micro-batch in turn, here
                for (int g = 0; g < groups; g++) {
                    DecodeSlot slot = decodeSlot(g, active, size * g / groups, size * (g + 1) / groups);
                    finishDecode(slot, active, runner.run(Phase.DECODE, slot.batch, head.embed(slot.batch, slot.tokens)), next);
                }
            } else {                                                // a pipeline: every micro-batch in flight at once
                for (int g = 0; g < groups; g++) {
                    DecodeSlot slot = decodeSlot(g, active, size * g / groups, size * (g + 1) / groups);
                    slot.work = runner.submit(Phase.DECODE, slot.batch, head.embed(slot.batch, slot.tokens));
                }
                for (int g = 0; g < groups; g++) finishDecode(decodeSlots.get(g), active, await(decodeSlots.get(g).work), next);
            }
        } finally {
            for (int g = 0; g < groups; g++) decodeSlots.get(g).work = null;   // no future outlives its step
            runner.endStep();
        }
        return next;
    }

    /**
     * A micro-batch's buffers, kept from step to step: the step batch over the states it ran last step (whose positions
     * array it fills in place), the tokens it feeds and the next tokens it gets.
     */
    private static final class DecodeSlot {
        int from;                                                   // its sequences are active[from, from + size)
        int[] positions = new int[0];
        int[] tokens = new int[0];
        int[] next = new int[0];
        StepBatch batch;
        CompletableFuture<Ops.Act> work;
    }

    private final List<DecodeSlot> decodeSlots = new ArrayList<>();
    private int[] nextTokens = new int[0];

    /** Slot g over active[from, to): its batch is reused while it holds the same states in the same order. */
    private DecodeSlot decodeSlot(int g, List<Sequence> active, int from, int to) {
        while (decodeSlots.size() <= g) decodeSlots.add(new DecodeSlot());
        DecodeSlot slot = decodeSlots.get(g);
        int n = to - from;
        boolean same = slot.batch != null && slot.batch.numSequences() == n;
        for (int i = 0; same && i < n; i++) same = slot.batch.state(i) == active.get(from + i).state;
        if (!same) {
            List<SequenceState> states = new ArrayList<>(n);
            for (int i = from; i < to; i++) states.add(active.get(i).state);
            int[] ones = new int[n];
            java.util.Arrays.fill(ones, 1);
            slot.positions = new int[n];
            slot.tokens = new int[n];
            slot.next = new int[n];
            slot.batch = new StepBatch(states, ones, slot.positions);
        }
        slot.from = from;
        for (int i = 0; i < n; i++) {
            Sequence s = active.get(from + i);
            slot.positions[i] = s.state.length;                     // the batch reads them: filled in place
            boolean first = config.encoderDecoder() && s.numGenerated() == 0;
            slot.tokens[i] = first ? config.decoderStartTokenId() : s.lastToken();
        }
        return slot;
    }

    /** The micro-batch's hidden rows x are out: its sequences grow by one token each. */
    private void finishDecode(DecodeSlot slot, List<Sequence> active, Ops.Act x, int[] next) {
        int n = slot.positions.length;
        for (int i = 0; i < n; i++) active.get(slot.from + i).state.length++;
        float[][] logits = engineConfig.keepLogits() ? new float[n][] : null;
        head.greedy(slot.batch, x, logits, slot.next);
        for (int i = 0; i < n; i++) {
            Sequence s = active.get(slot.from + i);
            if (logits != null) s.lastLogits = logits[i];
            s.append(slot.next[i], config.eosTokenId());
            next[slot.from + i] = s.lastToken();
        }
    }

    @Override
    public String chunkedPrefillRefusal() {
        return chunkedPrefillRefusal(config);
    }

    /** Why an engine of a model with {@code config} cannot prefill in chunks (one line), or null, without an engine. */
    public static String chunkedPrefillRefusal(ModelConfig config) {
        return config.encoderDecoder() ? "chunked prefill (VLLM_V1) runs decoder-only models; " + config.architecture()
                + " is an encoder-decoder model, whose encoder takes its prompt whole (vLLM V1 dropped encoder-decoder"
                + " models): run VLLM_V0 (budgeted prompt batching) for it" : null;
    }

    @Override
    public Sequence start(GenerationRequest request) {
        requireChunkedPrefill();
        return admit(request);                                      // its state holds no position yet
    }

    /**
     * vLLM V1's step: one ragged batch of every decoding sequence's next token (one row at its cached length) and
     * each chunk's prompt tokens (rows at the positions after what its earlier chunks computed), in the order given,
     * split into contiguous micro-batches as a decode is. The layers compute it as they compute a prefill and a decode:
     * a row attends causally to its sequence's cache up to its own position, which the chunk's earlier rows have just
     * written. A chunk that completes its prompt appends the greedy first token; the others discard their logits.
     */
    @Override
    public void step(List<Sequence> decoding, List<PromptChunk> chunks) {
        requireChunkedPrefill();
        List<Sequence> all = new ArrayList<>(decoding.size() + chunks.size());
        for (Sequence s : decoding) {
            requireRunnable(s);
            if (s.numGenerated() == 0) throw new IllegalArgumentException("request " + s.requestId()
                    + ": its prompt is not prefilled yet; give it as a chunk");
            all.add(s);
        }
        for (PromptChunk c : chunks) {
            Sequence s = c.sequence();
            requireRunnable(s);
            int p = s.request().promptTokens().length;
            if (s.numGenerated() != 0 || c.numComputedTokens() != s.state.length || c.numTokens() < 1
                    || c.numComputedTokens() + c.numTokens() > p) {
                throw new IllegalArgumentException("request " + s.requestId() + ": a chunk of " + c.numTokens()
                        + " tokens after " + c.numComputedTokens() + " does not continue a prompt of " + p + " tokens with "
                        + s.state.length + " computed and " + s.numGenerated() + " generated");
            }
            all.add(s);
        }
        int size = all.size();
        if (size == 0) return;
        int groups = numMicroBatches(size, Phase.DECODE);
        List<StepBatch> batches = new ArrayList<>(groups);
        List<CompletableFuture<Ops.Act>> works = new ArrayList<>(groups);
        try {
            for (int g = 0; g < groups; g++) {
                int from = size * g / groups;
                int to = size * (g + 1) / groups;
                List<SequenceState> states = new ArrayList<>(to - from);
                int[] numRows = new int[to - from];
                int[] startPos = new int[to - from];
                int total = 0;
                for (int i = from; i < to; i++) {
                    states.add(all.get(i).state);
                    numRows[i - from] = i < decoding.size() ? 1 : chunks.get(i - decoding.size()).numTokens();
                    startPos[i - from] = all.get(i).state.length;
                    total += numRows[i - from];
                }
                int[] tokens = new int[total];
                int at = 0;
                for (int i = from; i < to; i++) {
                    if (i < decoding.size()) {
                        tokens[at++] = all.get(i).lastToken();
                    } else {
                        PromptChunk c = chunks.get(i - decoding.size());
                        System.arraycopy(c.sequence().request().promptTokens(), c.numComputedTokens(), tokens, at, c.numTokens());
                        at += c.numTokens();
                    }
                }
                StepBatch b = new StepBatch(states, numRows, startPos);
                if (runner.runsOnCaller()) {                        // one device: each micro-batch in turn, here
                    finishMixed(all.subList(from, to), b, runner.run(Phase.DECODE, b, head.embed(b, tokens)));
                } else {                                            // a pipeline: every micro-batch in flight at once
                    batches.add(b);
                    works.add(runner.submit(Phase.DECODE, b, head.embed(b, tokens)));
                }
            }
            for (int g = 0; g < works.size(); g++) {
                finishMixed(all.subList(size * g / groups, size * (g + 1) / groups), batches.get(g), await(works.get(g)));
            }
        } finally {
            runner.endStep();
        }
    }

    /** A mixed micro-batch's rows are out: each sequence's cache grows by its rows; decodes and completed prompts get a token. */
    private void finishMixed(List<Sequence> group, StepBatch b, Ops.Act x) {
        int n = group.size();
        float[][] logits = engineConfig.keepLogits() ? new float[n][] : null;
        int[] next = new int[n];
        head.greedy(b, x, logits, next);
        for (int i = 0; i < n; i++) {
            Sequence s = group.get(i);
            s.state.length += b.numRows(i);
            if (s.numGenerated() > 0 || s.state.length == s.request().promptTokens().length) {
                if (logits != null) s.lastLogits = logits[i];
                s.append(next[i], config.eosTokenId());
            }
        }
    }

    private void requireChunkedPrefill() {
        String refusal = chunkedPrefillRefusal();
        if (refusal != null) throw new UnsupportedOperationException(refusal);
    }

    private void requireRunnable(Sequence s) {
        requireOwned(s);
        if (s.released || s.state == null) throw new IllegalArgumentException("request " + s.requestId()
                + ": sequence was released or exported; import it to decode");
        if (s.isFinished()) throw new IllegalArgumentException("request " + s.requestId() + ": sequence finished ("
                + s.finishReason() + "); release it instead of decoding");
    }

    private void appendNext(List<Sequence> group, StepBatch b, Ops.Act hidden) {
        float[][] logits = engineConfig.keepLogits() ? new float[group.size()][] : null;
        int[] next = new int[group.size()];
        head.greedy(b, hidden, logits, next);
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
        runner.free(s.state);
        stateBytesInUse -= s.stateBytes;
        numHeld--;
    }

    /** The sequence's request, tokens and state as bytes, for {@link #importState} on another engine. */
    public byte[] exportState(Sequence s) {
        requireOwned(s);
        if (s.released) throw new IllegalArgumentException("request " + s.requestId() + ": sequence was released");
        SequenceState host = runner.hostForm(s.state);
        runner.download(s.state, host);
        return StateCodec.encode(config, s, host);
    }

    /** Admits a sequence exported by an engine of the same model; charged like an admission. */
    public Sequence importState(byte[] bytes) {
        StateCodec.Decoded d = StateCodec.decode(config, bytes);
        Sequence s = admit(d.request());
        try {
            SequenceState host = runner.hostForm(s.state);
            StateCodec.restore(d, s, host);
            runner.upload(host, s.state);
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
        long capacity = runner.capacityBytes();
        if (stateBytesInUse + bytes > capacity) {
            throw new CapacityExceededException(r.requestId(), String.format("needs %d state bytes but only %d of %d"
                    + " are free (%d sequences hold the rest)", bytes, capacity - stateBytesInUse, capacity, numHeld));
        }
        int maxPositions = config.encoderDecoder() ? r.maxNewTokens() : p + r.maxNewTokens() - 1;
        int encoderLength = config.encoderDecoder() ? p : 0;
        SequenceState state = runner.allocate(maxPositions, encoderLength, bytes);
        if (state == null) {
            throw new CapacityExceededException(r.requestId(), String.format("needs %d state bytes; %d are free"
                    + " on the device but no free range is that large", bytes, capacity - stateBytesInUse));
        }
        stateBytesInUse += bytes;
        numHeld++;
        return new Sequence(this, r, r.promptTokens().clone(), state, bytes);
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
        int n = numMicroBatches(seqs.size(), phase);
        List<List<Sequence>> groups = new ArrayList<>();
        for (int g = 0; g < n; g++) groups.add(seqs.subList(seqs.size() * g / n, seqs.size() * (g + 1) / n));
        return groups;
    }

    /** Micro-batches of a step of size sequences; micro-batch g is sequences [size * g / n, size * (g + 1) / n). */
    private int numMicroBatches(int size, Phase phase) {
        int n = engineConfig.numMicroBatches() > 0 ? engineConfig.numMicroBatches() : runner.numStages(phase);
        return Math.max(1, Math.min(n, size));
    }

    private static Ops.Act await(CompletableFuture<Ops.Act> w) {
        try {
            return w.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() {
        runner.close();
    }
}
