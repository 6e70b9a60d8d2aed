package dev.exegpt.operators.runner;

import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.plan.ExecutorCore;
import dev.exegpt.scheduler.plan.PolicyRegistry;
import dev.exegpt.scheduler.plan.Role;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.exegpt.operators.core.Results;
import dev.exegpt.operators.core.Results.Provenance;
import dev.exegpt.operators.core.Timeline;
import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.runtime.engine.CapacityExceededException;
import dev.exegpt.runtime.engine.ChunkedPrefillEngine;
import dev.exegpt.runtime.engine.EncodeResult;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.GenerationRequest;
import dev.exegpt.runtime.engine.InvalidRequestException;
import dev.exegpt.runtime.engine.Sequence;
import dev.exegpt.runtime.engine.StepEngine;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.scheduler.policy.BatchingPolicy;
import dev.exegpt.scheduler.policy.StepPlan;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * Drives one {@link Engine} with a {@link BatchingPolicy} under the real clock: the second driver of the policies the
 * XSimulator drives under a virtual clock (STYLE.md C9). Requests are submitted from any thread; one engine thread
 * asks the policy for the next step, runs it, and completes each request's callback when it finishes, with the
 * latency breakdown from its Kafka timestamp.
 *
 * <p>A new schedule is adopted between steps (a batch boundary): requests already encoded keep decoding, nothing is
 * lost or repeated. A request the engine refuses (too long, KV cache full) or whose deadline has passed by the time
 * it would be encoded is answered at once with an unfinished result that says why; so is, with {@link Admission}
 * in {@code reject-late} mode, one that is predicted to finish past its deadline or SLO.
 */
public final class ExecutorRunner implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ExecutorRunner.class);
    private static final long IDLE_WAIT_MS = 20;

    private final StepEngine engine;
    private final boolean ownThread;
    private final String layout;                                      // the engine's device layout, e.g. RRA[1, 1]
    private final Role role;
    private final BpeTokenizer tokenizer;
    private final String executorId;
    private final int attempt;
    private final RunnerClock clock;
    private final LinkedBlockingQueue<InFlight> inbox = new LinkedBlockingQueue<>();
    private final List<InFlight> arrived = new ArrayList<>();
    private final ExecutorCore<InFlight> core;                  // queue, active set, held members, step bookkeeping
    private final AtomicInteger numInFlight = new AtomicInteger();
    private volatile int numWaitingOnThread;
    // The next decode iteration follows newly admitted sequences: for T5 it also computes their cross-attention keys
    // and values (several times a plain iteration), so admission control's iteration time leaves it out, as the
    // control loop's fit does; its cost reaches admission through the measured-over-predicted margin instead.
    private boolean decodeAfterAdmit;
    private volatile int numActiveOnThread;                         // core.numActive(), published by the engine thread
    private volatile java.util.function.IntSupplier decoderBacklog;                        // waiting.size(), published by the engine thread
    private final Thread thread;
    private volatile Schedule pendingSchedule;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private final Admission admission;
    private Schedule schedule;
    private volatile Consumer<EngineStep> stepObserver;
    private int numToEncodeAlone;                                     // after a failed encode step: isolate its requests

    public ExecutorRunner(Engine engine, BpeTokenizer tokenizer, Schedule schedule, String executorId, int attempt) {
        this(engine, tokenizer, schedule, Role.FULL, executorId, attempt);
    }

    public ExecutorRunner(Engine engine, BpeTokenizer tokenizer, Schedule schedule, Role role, String executorId, int attempt) {
        this(engine, tokenizer, schedule, role, executorId, attempt, Admission.Mode.OFF);
    }

    /** @param admission whether a request that can no longer meet its deadline is answered before it is encoded */
    public ExecutorRunner(Engine engine, BpeTokenizer tokenizer, Schedule schedule, Role role, String executorId, int attempt,
                          Admission.Mode admission) {
        this(engine, tokenizer, schedule, role, executorId, attempt, admission, new WallClock(), true);
    }

    /**
     * A runner without its own thread, for a deterministic driver: the caller submits requests and calls
     * {@link #runOneStep()}, and {@code clock} (which the engine may move) gives every time. The driver-equality
     * test runs it beside the event simulator on a clocked engine.
     */
    public static ExecutorRunner stepped(StepEngine engine, BpeTokenizer tokenizer, Schedule schedule, Role role,
                                         String executorId, RunnerClock clock) {
        return new ExecutorRunner(engine, tokenizer, schedule, role, executorId, 1, Admission.Mode.OFF, clock, false);
    }

    private ExecutorRunner(StepEngine engine, BpeTokenizer tokenizer, Schedule schedule, Role role, String executorId,
                           int attempt, Admission.Mode admission, RunnerClock clock, boolean ownThread) {
        this.engine = engine;
        this.layout = engine instanceof Engine e ? e.engineConfig().layout().toString() : "";
        this.clock = clock;
        this.ownThread = ownThread;
        this.admission = new Admission(admission);
        this.role = role;
        this.tokenizer = tokenizer;
        this.executorId = executorId;
        this.attempt = attempt;
        this.schedule = schedule;
        String refusal = Policies.refusal(schedule, engine);
        if (refusal != null) {
            throw new IllegalArgumentException("executor " + executorId + " cannot run schedule " + schedule.getScheduleId()
                    + ": " + refusal);
        }
        this.core = new ExecutorCore<>(Policies.forRole(schedule, role), f -> f.request.numInputTokens(),
                f -> f.sequence != null && f.sequence.isFinished(), ExecutorCore.HEAD_LENGTHS);
        admissionFollows(schedule);
        this.thread = ownThread ? new Thread(this::loop, "exegpt-executor-" + executorId) : null;
        if (thread != null) {
            thread.setDaemon(true);
            thread.start();
        }
        LOG.info("executor {} runs schedule {} v{} ({}), admission {}", executorId, schedule.getScheduleId(),
                schedule.getVersion(), schedule.getPolicy(), admission.text());
    }

    /**
     * Queues a request; {@code done} is called once, on the engine thread, with its result. An ENCODER calls
     * {@code handedOver} instead when the request is encoded and still has tokens to generate. Thread-safe.
     */
    public void submit(ValidRequest request, Consumer<InferenceResult> done, Consumer<Handover> handedOver) {
        if (role == Role.DECODER) {
            throw new IllegalStateException("executor " + executorId + " decodes handed-over requests only");
        }
        enqueue(new InFlight(request, done, handedOver, null));
    }

    /** As {@link #submit(ValidRequest, Consumer, Consumer)} for a FULL executor. */
    public void submit(ValidRequest request, Consumer<InferenceResult> done) {
        submit(request, done, null);
    }

    /** Queues an encoded request for a DECODER; {@code done} is called once with its result. Thread-safe. */
    public void submit(Handover handover, Consumer<InferenceResult> done) {
        if (role != Role.DECODER) {
            throw new IllegalStateException("executor " + executorId + " (" + role + ") does not take handed-over requests");
        }
        enqueue(new InFlight(handover.request(), done, null, handover));
    }

    private void enqueue(InFlight f) {
        if (failure != null) {
            throw new IllegalStateException("executor " + executorId + " failed", failure);
        }
        numInFlight.incrementAndGet();
        inbox.add(f);
    }

    /** Switches to a newer schedule at the next step boundary; an older or equal version is ignored. Thread-safe. */
    public void adopt(Schedule newer) {
        Schedule current = pendingSchedule != null ? pendingSchedule : schedule;
        if (newer.getVersion() > current.getVersion()) {
            try {
                if (Policies.splitsEncodeAndDecode(newer) != (role != Role.FULL)) {
                    LOG.warn("executor {} ({}) ignores schedule {} v{} ({}): switching between one group and separate encoder "
                            + "and decoder groups needs a restart with the new schedule", executorId, role, newer.getScheduleId(),
                            newer.getVersion(), newer.getPolicy());
                    return;
                }
                Policies.forRole(newer, role);
                String refusal = Policies.refusal(newer, engine);
                if (refusal != null) {
                    throw new IllegalArgumentException(refusal);
                }
            } catch (RuntimeException e) {
                // The job validates schedules before they reach an executor; this keeps one that slipped through from
                // failing the task: the schedule in force stays.
                LOG.warn("executor {} ({}) ignores schedule {} v{}: {}", executorId, role, newer.getScheduleId(),
                        newer.getVersion(), e.getMessage());
                return;
            }
            pendingSchedule = newer;
        }
    }

    /**
     * Calls {@code observer} on the engine thread after every encode and decode step, with what the step ran and how
     * long it took; null stops. For measurement (the simulator's fidelity check), not for the serving path: keep it cheap.
     */
    public void observeSteps(Consumer<EngineStep> observer) {
        this.stepObserver = observer;
    }

    /**
     * Admission control predicts at the schedule's decode batch, and, where this executor both encodes and decodes
     * under RRA, with an encode step every N_D decode iterations.
     */
    private void admissionFollows(Schedule s) {
        boolean stalls = role == Role.FULL && s.getPolicy() == dev.exegpt.schemas.SchedulePolicy.RRA;
        admission.schedule(s.getDecodeBatchSize(), stalls ? s.getDecodeIterationsPerEncode() : 0);
    }

    /** Requests answered early by admission control so far. */
    public long numRefusedByAdmission() {
        return admission.numRefused();
    }

    /** Requests submitted and not yet answered. */
    public int numInFlight() {
        return numInFlight.get();
    }

    /**
     * Requests queued and not yet in an encode step (for a DECODER: hand-overs not yet admitted to the decode
     * batch), the executor's queue depth. Thread-safe; a moment's count, for metrics.
     */
    public int numWaiting() {
        return inbox.size() + numWaitingOnThread;
    }

    public Schedule schedule() {
        return pendingSchedule != null ? pendingSchedule : schedule;
    }

    /** The engine thread's failure, if it died (the Flink wrapper then fails the task so that it restarts). */
    public Throwable failure() {
        return failure;
    }

    @Override
    public void close() {
        running = false;
        if (thread == null) {
            return;
        }
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        try {
            while (running) {
                runOneStep();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            failure = t;
            LOG.error("executor {} failed; its task will restart", executorId, t);
        }
    }

    /**
     * One step of the executor: take what arrived, adopt a pending schedule, ask the policy, run the step on the
     * engine, answer what finished. The engine thread's loop; a {@link #stepped} runner's caller calls it directly.
     *
     * @return the step that ran (IDLE when there was nothing to do)
     */
    public StepPlan runOneStep() throws InterruptedException {
        drainInbox();
        switchScheduleIfPending();
        StepPlan plan = core.decide(downstreamBacklog(), clock.nowEpochMs());
        int completed = switch (plan.kind()) {
            case ENCODE -> encode(plan.numToEncode());
            case DECODE -> role == Role.DECODER ? admitHandovers() + decode() : encode(plan.numToEncode()) + decode();
            case MIXED -> mixed();
            case IDLE -> idle();
        };
        core.endStep(completed);
        numWaitingOnThread = core.numWaiting();
        numActiveOnThread = core.numActive() + core.numPrefilling();
        return plan;
    }

    private void drainInbox() {
        inbox.drainTo(arrived);
        arrived.forEach(core::enqueue);
        arrived.clear();
        numWaitingOnThread = core.numWaiting();
    }

    /**
     * The decoder backlog an encoder side steers by. An encoder group cannot see the decoder group's batch across
     * operators: it takes the decoder to be on plan (backpressure from the decoder operator's capacity bounds it
     * otherwise).
     */
    private int downstreamBacklog() {
        if (role != Role.ENCODER) {
            return 0;
        }
        java.util.function.IntSupplier decoder = decoderBacklog;
        int backlog = decoder != null ? decoder.getAsInt() : -1;
        return backlog >= 0 ? backlog : schedule.getDecodeBatchSize();
    }

    /**
     * An ENCODER steers by the decoder group's real backlog from now on (PAPER.md §7's rule): {@code backlog} counts
     * the decoder's active and waiting requests, as {@link #numBacklog()} of the decoder's runner does. Without it the
     * encoder takes the decoder to be on plan, as it does while {@code backlog} answers a negative number (the decoder
     * is not known yet). Where both groups run in one process (the embedded job, a test) the decoder's runner can be
     * asked directly.
     */
    public void observeDecoderBacklog(java.util.function.IntSupplier backlog) {
        this.decoderBacklog = backlog;
    }

    /**
     * An ENCODER counts the decode its hand-overs will need in its admission control's predicted finish:
     * {@code forecast} gives the decoder's {@link #decodeForecast} (null while unknown). Where both groups run in one
     * process the decoder's runner can be asked directly; elsewhere the decode counts as zero here.
     */
    public void observeDecoderForecast(java.util.function.Supplier<Admission.Forecast> forecast) {
        admission.downstream(forecast);
    }

    /** A DECODER's admission forecast for a request handed over now; null before its first decode. Thread-safe. */
    public Admission.Forecast decodeForecast() {
        return admission.published();
    }

    /** Requests this executor holds: decoding (held members of a static batch included) and waiting. Thread-safe. */
    public int numBacklog() {
        return numActiveOnThread + numWaiting();
    }

    private int idle() throws InterruptedException {
        InFlight next = ownThread ? inbox.poll(IDLE_WAIT_MS, TimeUnit.MILLISECONDS) : inbox.poll();
        if (next != null) {
            core.enqueue(next);
        }
        return 0;
    }

    private void switchScheduleIfPending() {
        Schedule next = pendingSchedule;
        if (next != null && next != schedule) {
            LOG.info("executor {} adopts schedule {} v{} ({}) with {} active", executorId, next.getScheduleId(),
                    next.getVersion(), next.getPolicy(), core.numActive());
            schedule = next;
            if (core.numPrefilling() > 0 && !PolicyRegistry.chunksPrefills(ScheduleCodec.policyOf(next))) {
                for (InFlight f : core.requeuePrefills()) {        // the new policy prefills them whole, from the start
                    engine.release(f.sequence);
                    f.sequence = null;
                }
            }
            core.adopt(Policies.forRole(next, role));
            admissionFollows(next);
            pendingSchedule = null;
        }
    }

    /** Encodes up to n waiting requests; returns how many finished in this step (maxNewTokens 1, or EOS first). */
    private int encode(int n) {
        if (n == 0) {
            return 0;
        }
        if (numToEncodeAlone > 0) {
            numToEncodeAlone--;
            n = 1;
        }
        List<InFlight> batch = new ArrayList<>(n);
        while (batch.size() < n && core.numWaiting() > 0) {
            InFlight f = core.take(1).get(0);
            Long deadline = f.request.request().getDeadlineEpochMs();
            double now = clock.nowEpochMs();
            String refusal;
            if (deadline != null && now >= deadline) {
                answerUnfinished(f, FinishReason.DEADLINE, "deadline " + deadline + " passed before the request could start");
            } else if ((refusal = admission.refusal(f.request, now, core.numActive() + batch.size() + 1)) != null) {
                answerUnfinished(f, FinishReason.DEADLINE, refusal);
            } else {
                f.admitted(now, admission.predictedServiceMs(f.request, core.numActive() + batch.size() + 1));
                batch.add(f);
            }
        }
        numWaitingOnThread = core.numWaiting();
        if (batch.isEmpty()) {
            return 0;
        }
        List<GenerationRequest> requests = new ArrayList<>(batch.size());
        for (InFlight f : batch) {
            requests.add(generationRequest(f.request));
        }
        double start = clock.nowEpochMs();
        EncodeResult result;
        try {
            result = engine.encode(requests);
        } catch (RuntimeException e) {
            return encodeFailed(batch, e);
        }
        double end = clock.nowEpochMs();
        admission.observeEncode(end - start);
        Consumer<EngineStep> observer = stepObserver;
        if (observer != null) {
            int[] lengths = new int[requests.size()];
            long tokens = 0;
            for (int i = 0; i < lengths.length; i++) {
                lengths[i] = requests.get(i).promptTokens().length;
                tokens += lengths[i];
            }
            observer.accept(new EngineStep(EngineStep.Kind.ENCODE, start, end, lengths, tokens));
        }
        int finished = 0;
        Iterator<Sequence> admitted = result.admitted().iterator();
        List<InFlight> encoded = new ArrayList<>(batch.size());
        for (InFlight f : batch) {
            RuntimeException rejected = result.rejected().get(f.request.requestId());
            if (rejected != null) {
                answerUnfinished(f, FinishReason.ERROR, rejected.getMessage());
                continue;
            }
            f.sequence = admitted.next();
            f.encodeStartEpochMs = start;
            f.encodeEndEpochMs = end;
            f.encodeBatchSize = batch.size();
            if (f.sequence.numGenerated() > 0) {
                f.firstTokenEpochMs = end;            // a decoder-only prefill yields the first token
            }
            encoded.add(f);
        }
        core.admit(encoded);
        decodeAfterAdmit = !encoded.isEmpty();
        finished += retireFinished(end);
        if (role == Role.ENCODER) {
            handOverActive();
        }
        return finished;
    }

    /**
     * An encode step threw. The request it failed on must not take the job down, nor its batch-mates with it: a
     * failed single request is answered with an error result; a failed batch goes back to the head of the queue and
     * its requests are encoded one at a time, so the next failure names the request.
     */
    private int encodeFailed(List<InFlight> batch, RuntimeException e) {
        if (batch.size() == 1) {
            InFlight f = batch.get(0);
            LOG.warn("executor {}: the engine failed to encode request {}; answered with an error", executorId,
                    f.request.requestId(), e);
            answerUnfinished(f, FinishReason.ERROR, "the engine failed on this request: " + e);
            return 0;
        }
        LOG.warn("executor {}: an encode step of {} requests failed ({}); encoding them one at a time", executorId,
                batch.size(), e.toString());
        core.requeueFirst(batch);
        numToEncodeAlone = batch.size();
        numWaitingOnThread = core.numWaiting();
        return 0;
    }

    /**
     * A decode step threw: its sequences' state cannot be trusted, so each is released and answered with an error
     * result, and the executor goes on with the next step.
     */
    private int decodeFailed(RuntimeException e) {
        List<InFlight> failed = core.drainActive();
        LOG.error("executor {}: a decode step of {} sequences failed; they are answered with an error", executorId,
                failed.size(), e);
        for (InFlight f : failed) {
            try {
                engine.release(f.sequence);
            } catch (RuntimeException releaseFailed) {
                LOG.warn("executor {}: releasing {} failed", executorId, f.request.requestId(), releaseFailed);
            }
            answerUnfinished(f, FinishReason.ERROR, "the engine failed in a decode step of " + failed.size()
                    + " sequences: " + e);
        }
        return retireFinished(clock.nowEpochMs());
    }

    /** ENCODER: every encoded, unfinished sequence leaves as bytes for a decoder group (PAPER.md §5.2). */
    private void handOverActive() {
        for (InFlight f : core.drainActive()) {
            double now = clock.nowEpochMs();
            admission.finished(f.predictedServiceMs, now - f.admittedEpochMs, now);
            byte[] state = engine.exportState(f.sequence);
            engine.release(f.sequence);
            numInFlight.decrementAndGet();
            try {
                f.handedOver.accept(new Handover(f.request, state, f.encodeStartEpochMs, f.encodeEndEpochMs,
                        f.firstTokenEpochMs, f.encodeBatchSize, schedule, layout));
            } catch (RuntimeException e) {
                LOG.warn("executor {}: handing over {} failed", executorId, f.request.requestId(), e);
            }
        }
    }

    /**
     * DECODER: imports every waiting hand-over into the decode batch ("merged with previously decoded batch data"),
     * but for one that admission control predicts to finish past its deadline at the batch it would join: that one is
     * answered early, its state never imported.
     */
    private int admitHandovers() {
        numWaitingOnThread = 0;                          // all of them join the batch now
        List<InFlight> imported = new ArrayList<>();
        List<InFlight> waiting = core.takeAll();
        int joining = core.numActive() + waiting.size();
        double now = clock.nowEpochMs();
        for (InFlight f : waiting) {
            Handover h = f.handover;
            String refusal = admission.refusal(f.request, now, joining);
            if (refusal != null) {
                answerUnfinished(f, FinishReason.DEADLINE, refusal);
                joining--;
                continue;
            }
            f.admitted(now, admission.predictedServiceMs(f.request, joining));
            try {
                f.sequence = engine.importState(h.state());
            } catch (RuntimeException e) {
                answerUnfinished(f, FinishReason.ERROR, "could not take over the encoded state: " + e.getMessage());
                continue;
            }
            f.encodeStartEpochMs = h.encodeStartEpochMs();
            f.encodeEndEpochMs = h.encodeEndEpochMs();
            f.firstTokenEpochMs = h.firstTokenEpochMs();
            f.encodeBatchSize = h.encodeBatchSize();
            imported.add(f);
        }
        core.admit(imported);
        decodeAfterAdmit |= !imported.isEmpty();
        return 0;
    }

    /**
     * vLLM V1's step (chunked prefill): a decode token for every active request and the plan's prompt chunks, in one
     * engine step; a request whose prompt the step completes decodes from the next step on.
     */
    private int mixed() {
        List<ExecutorCore.Chunk<InFlight>> taken = core.takeChunks();
        numWaitingOnThread = core.numWaiting();
        ChunkedPrefillEngine chunking = (ChunkedPrefillEngine) engine;
        List<ExecutorCore.Chunk<InFlight>> chunks = new ArrayList<>(taken.size());
        for (ExecutorCore.Chunk<InFlight> c : taken) {
            InFlight f = c.request();
            if (c.numComputedTokens() == 0) {
                try {
                    f.sequence = chunking.start(generationRequest(f.request));
                } catch (InvalidRequestException | CapacityExceededException e) {
                    core.abandonPrefill(f);                       // the engine refused it; the rest of the step goes on
                    answerUnfinished(f, FinishReason.ERROR, e.getMessage());
                    continue;
                }
            }
            chunks.add(c);
        }
        if (chunks.isEmpty()) {                                   // the engine refused every new prompt: a plain decode
            return decode();
        }
        List<InFlight> active = core.active();
        List<Sequence> decoding = new ArrayList<>(active.size());
        for (InFlight f : active) {
            decoding.add(f.sequence);
        }
        List<ChunkedPrefillEngine.PromptChunk> prompts = new ArrayList<>(chunks.size());
        for (ExecutorCore.Chunk<InFlight> c : chunks) {
            prompts.add(new ChunkedPrefillEngine.PromptChunk(c.request().sequence, c.numComputedTokens(), c.numTokens()));
        }
        double start = clock.nowEpochMs();
        try {
            chunking.step(decoding, prompts);
        } catch (RuntimeException e) {
            for (ExecutorCore.Chunk<InFlight> c : chunks) {        // the prompts of the failed step are answered too
                InFlight f = c.request();
                core.abandonPrefill(f);
                try {
                    engine.release(f.sequence);
                } catch (RuntimeException releaseFailed) {
                    LOG.warn("executor {}: releasing {} failed", executorId, f.request.requestId(), releaseFailed);
                }
                answerUnfinished(f, FinishReason.ERROR, "the engine failed in a chunked-prefill step: " + e);
            }
            return decodeFailed(e);
        }
        double end = clock.nowEpochMs();
        Consumer<EngineStep> observer = stepObserver;
        if (observer != null) {
            // Logged as the prompt step it carries (its decode rows ride along, as in vLLM's step); a V1 step of
            // decodes only is planned as DECODE and logged by decode().
            int[] lengths = new int[chunks.size()];
            long tokens = 0;
            for (int i = 0; i < lengths.length; i++) {
                lengths[i] = chunks.get(i).numTokens();
                tokens += lengths[i];
            }
            observer.accept(new EngineStep(EngineStep.Kind.ENCODE, start, end, lengths, tokens));
        }
        for (InFlight f : active) {
            f.decodeBatchSizeSum += active.size();
            f.numDecodeIterations++;
            if (Double.isNaN(f.firstTokenEpochMs)) {
                f.firstTokenEpochMs = end;
            }
        }
        for (ExecutorCore.Chunk<InFlight> c : chunks) {
            InFlight f = c.request();
            if (c.numComputedTokens() == 0) {
                f.encodeStartEpochMs = start;
            }
            if (c.completesPrompt()) {
                f.encodeEndEpochMs = end;
                f.encodeBatchSize = chunks.size();
                if (f.sequence.numGenerated() > 0) {
                    f.firstTokenEpochMs = end;        // a decoder-only prefill yields the first token
                }
            }
        }
        int finished = retireFinished(end);
        core.finishChunks(chunks);
        return finished + retireFinished(end);
    }

    /** One decode iteration of the active set. */
    private int decode() {
        List<InFlight> active = core.active();
        if (active.isEmpty()) {
            return 0;
        }
        List<Sequence> sequences = new ArrayList<>(active.size());
        for (InFlight f : active) {
            sequences.add(f.sequence);
        }
        int[] inputLengths = null;
        long context = 0;                                // positions attended to: prompt + generated so far
        if (stepObserver != null) {
            inputLengths = new int[active.size()];
            for (int i = 0; i < inputLengths.length; i++) {
                InFlight f = active.get(i);
                inputLengths[i] = f.request.numInputTokens();
                context += inputLengths[i] + f.sequence.numGenerated();
            }
        }
        double start = clock.nowEpochMs();
        try {
            engine.decode(sequences);
        } catch (RuntimeException e) {
            return decodeFailed(e);
        }
        double end = clock.nowEpochMs();
        if (decodeAfterAdmit) {
            admission.observeDecodeAfterAdmit(end - start, sequences.size());
        } else {
            admission.observeDecode(end - start, sequences.size());
        }
        if (role == Role.DECODER) admission.publish(sequences.size() + 1, end);
        decodeAfterAdmit = false;
        Consumer<EngineStep> observer = stepObserver;
        if (observer != null && inputLengths != null) {
            observer.accept(new EngineStep(EngineStep.Kind.DECODE, start, end, inputLengths, context));
        }
        for (InFlight f : active) {
            f.decodeBatchSizeSum += active.size();
            f.numDecodeIterations++;
            if (Double.isNaN(f.firstTokenEpochMs)) {
                f.firstTokenEpochMs = end;
            }
        }
        return retireFinished(end);
    }

    /**
     * Releases the state of sequences that finished in this step and answers the requests the core retires: at once
     * with early termination, the whole batch at its end without (static batching). Returns how many finished.
     */
    private int retireFinished(double now) {
        int finished = 0;
        for (InFlight f : core.active()) {
            if (f.sequence.isFinished() && !f.released) {
                f.released = true;
                f.lastTokenEpochMs = now;
                engine.release(f.sequence);
                finished++;
            }
        }
        for (InFlight f : core.retire()) {
            f.lastTokenEpochMs = now;                // a static batch leaves together, at the end of the batch
            admission.finished(f.predictedServiceMs, now - f.admittedEpochMs, now);
            answer(f);
        }
        return finished;
    }

    private void answer(InFlight f) {
        Sequence s = f.sequence;
        int[] tokens = s.generatedTokens();
        boolean eos = s.finishReason() == dev.exegpt.runtime.engine.FinishReason.EOS;
        int[] output = eos && tokens.length > 0 ? java.util.Arrays.copyOf(tokens, tokens.length - 1) : tokens;
        double firstToken = Double.isNaN(f.firstTokenEpochMs) ? f.lastTokenEpochMs : f.firstTokenEpochMs;
        Timeline timeline = new Timeline(f.encodeStartEpochMs, f.encodeEndEpochMs, firstToken, f.lastTokenEpochMs);
        double meanDecodeBatch = f.numDecodeIterations == 0 ? 0 : (double) f.decodeBatchSizeSum / f.numDecodeIterations;
        InferenceResult result = Results.finished(f.request, timeline, output, tokenizer.decode(output),
                eos ? FinishReason.EOS : FinishReason.MAX_TOKENS, new Results.Batching(f.encodeBatchSize, meanDecodeBatch),
                provenance(f));
        complete(f, result);
    }

    private static GenerationRequest generationRequest(ValidRequest r) {
        return new GenerationRequest(r.requestId(), r.promptTokenIds(), r.request().getMaxNewTokens(), r.request().getIgnoreEos());
    }

    private void answerUnfinished(InFlight f, FinishReason reason, String message) {
        complete(f, Results.unfinished(f.request, clock.nowEpochMs(), reason, message, provenance(f)));
    }

    private void complete(InFlight f, InferenceResult result) {
        numInFlight.decrementAndGet();
        try {
            f.done.accept(result);
        } catch (RuntimeException e) {
            LOG.warn("executor {}: delivering the result of {} failed", executorId, f.request.requestId(), e);
        }
    }

    /** The layout that ran a request: this group's, and under WAA the encoder group's before it. */
    private String executedLayout(Handover handover) {
        return switch (role) {
            case FULL -> layout;
            case ENCODER -> "enc " + layout;
            case DECODER -> "enc " + (handover == null || handover.encoderLayout() == null ? "?" : handover.encoderLayout())
                    + " + dec " + layout;
        };
    }

    private Provenance provenance(InFlight f) {
        return new Provenance(schedule.getScheduleId(), schedule.getVersion(), executorId, attempt, executedLayout(f.handover));
    }

    /** One request on its way through the engine; touched only by the engine thread after submission. */
    private static final class InFlight {
        final ValidRequest request;
        final Consumer<InferenceResult> done;
        final Consumer<Handover> handedOver;
        final Handover handover;
        Sequence sequence;
        boolean released;
        double encodeStartEpochMs;
        double encodeEndEpochMs;
        double firstTokenEpochMs = Double.NaN;
        double lastTokenEpochMs;
        int encodeBatchSize;
        long decodeBatchSizeSum;
        int numDecodeIterations;
        double admittedEpochMs = Double.NaN;            // when admission control let it in here, and what it predicted
        double predictedServiceMs = Double.NaN;

        InFlight(ValidRequest request, Consumer<InferenceResult> done, Consumer<Handover> handedOver, Handover handover) {
            this.request = request;
            this.done = done;
            this.handedOver = handedOver;
            this.handover = handover;
        }

        void admitted(double nowEpochMs, double predictedMs) {
            admittedEpochMs = nowEpochMs;
            predictedServiceMs = predictedMs;
        }
    }
}
