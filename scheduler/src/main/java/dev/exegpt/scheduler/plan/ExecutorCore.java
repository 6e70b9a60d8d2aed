package dev.exegpt.scheduler.plan;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

import dev.exegpt.scheduler.policy.BatchingPolicy;
import dev.exegpt.scheduler.policy.ExecutorView;
import dev.exegpt.scheduler.policy.StepPlan;

/**
 * The mechanism of one executor (device group), shared by both drivers (STYLE.md C8, C9; ARCHITECTURE.md move 1): the
 * queue of waiting requests, the active (decoding) set, the members a batch without early termination holds until it
 * ends, what the policy is shown, and when it hears a step ended. The event simulator drives it under the virtual
 * clock with step times from the cost model; {@code ExecutorRunner} drives it under the real clock with the real
 * engine. What differs between them (how a step is timed, what a request carries, how a refused request is answered)
 * stays in the drivers; which requests a step takes, which leave and when, is decided here once.
 *
 * <p>A step: {@link #decide} asks the policy; {@link #take} removes the requests to encode (an ENCODE step, or the
 * prefills a DECODE step admits) from the queue; the driver runs the step and {@link #admit}s the encoded ones;
 * after a decode iteration (or an encode that finished a request) {@link #retire} moves finished members out;
 * {@link #endStep} tells the policy how many completed. A MIXED step (vLLM V1's chunked prefill) instead
 * {@link #takeChunks} its prompt chunks (new requests leave the queue with their first chunk and stay
 * <em>prefilling</em> until their last); after the step, {@link #finishChunks} records the chunks and moves the
 * requests whose prompt is complete into the active set. Not thread-safe: one driver thread.
 *
 * @param <R> the driver's request type
 */
public final class ExecutorCore<R> {

    /** How many waiting requests' input lengths a policy is shown (WAA's encoder looks at up to 2 x B_E of them). */
    public static final int HEAD_LENGTHS = 1024;

    private final ToIntFunction<R> inputTokens;
    private final Predicate<R> finished;
    private final ArrayDeque<R> waiting = new ArrayDeque<>();
    private final List<R> active = new ArrayList<>();
    private final List<R> held = new ArrayList<>();
    /** Requests whose prompt is being prefilled in chunks, in admission order, and the prompt tokens each has computed. */
    private final List<R> prefilling = new ArrayList<>();
    private final Map<R, Integer> numComputedTokens = new IdentityHashMap<>();
    private BatchingPolicy policy;
    private StepPlan plan = StepPlan.IDLE;
    private final int maxHeadLengths;

    /**
     * @param inputTokens    a request's prompt length, shown to policies that batch by workload
     * @param finished       whether a request has produced its last token
     * @param maxHeadLengths how many waiting requests' lengths a policy sees at most
     */
    public ExecutorCore(BatchingPolicy policy, ToIntFunction<R> inputTokens, Predicate<R> finished, int maxHeadLengths) {
        this.policy = policy;
        this.inputTokens = inputTokens;
        this.finished = finished;
        this.maxHeadLengths = maxHeadLengths;
    }

    /** A request joins the queue (an arrival, or a hand-over at a decoder). */
    public void enqueue(R request) {
        waiting.add(request);
    }

    /** Switches the policy at a step boundary; requests already active keep decoding. */
    public void adopt(BatchingPolicy newer) {
        this.policy = newer;
    }

    public BatchingPolicy policy() {
        return policy;
    }

    /**
     * The next step, from the policy, shown the queue, the active set (held members included: a static batch is
     * not over until they leave) and the decoder's backlog (for an encoder side; 0 otherwise).
     */
    public StepPlan decide(int downstreamBacklog, double nowMs) {
        int[] head = new int[Math.min(waiting.size(), maxHeadLengths)];
        Iterator<R> it = waiting.iterator();
        for (int i = 0; i < head.length; i++) {
            head[i] = inputTokens.applyAsInt(it.next());
        }
        int[] remaining = new int[prefilling.size()];
        for (int i = 0; i < remaining.length; i++) {
            R r = prefilling.get(i);
            remaining[i] = promptTokens(r) - numComputedTokens.get(r);
        }
        plan = policy.next(new ExecutorView(waiting.size(), numActive(), downstreamBacklog, nowMs, head, remaining));
        return plan;
    }

    private int promptTokens(R r) {
        return Math.max(1, inputTokens.applyAsInt(r));
    }

    /**
     * One prompt chunk of a MIXED step: {@code numTokens} prompt tokens of {@code request} after the
     * {@code numComputedTokens} its earlier chunks computed.
     *
     * @param completesPrompt whether the chunk reaches the end of the prompt (the request decodes from the next step)
     */
    public record Chunk<R>(R request, int numComputedTokens, int numTokens, boolean completesPrompt) {}

    /**
     * The prompt chunks of the MIXED step in progress, in the plan's order: the prefills under way first, then the
     * newly admitted requests, which leave the queue now.
     */
    public List<Chunk<R>> takeChunks() {
        int[] tokens = plan.chunkTokens();
        int numContinuing = plan.numContinuingChunks();
        if (numContinuing > prefilling.size()) {
            throw new IllegalStateException("plan continues " + numContinuing + " prefills, " + prefilling.size() + " under way");
        }
        List<Chunk<R>> out = new ArrayList<>(tokens.length);
        for (int i = 0; i < numContinuing; i++) {
            R r = prefilling.get(i);
            int done = numComputedTokens.get(r);
            out.add(new Chunk<>(r, done, tokens[i], done + tokens[i] >= promptTokens(r)));
        }
        List<R> admitted = take(plan.numToEncode());
        for (int j = 0; j < admitted.size(); j++) {
            R r = admitted.get(j);
            int t = tokens[numContinuing + j];
            prefilling.add(r);
            numComputedTokens.put(r, 0);
            out.add(new Chunk<>(r, 0, t, t >= promptTokens(r)));
        }
        return out;
    }

    /**
     * The step ran these chunks: each request's progress is recorded, and those whose prompt is now complete leave
     * the prefilling set for the active set, after its members (they decode from the next step on). Returns them.
     */
    public List<R> finishChunks(List<Chunk<R>> chunks) {
        List<R> complete = new ArrayList<>();
        for (Chunk<R> c : chunks) {
            if (c.completesPrompt()) {
                prefilling.removeIf(r -> r == c.request());
                numComputedTokens.remove(c.request());
                complete.add(c.request());
            } else {
                numComputedTokens.put(c.request(), c.numComputedTokens() + c.numTokens());
            }
        }
        active.addAll(complete);
        return complete;
    }

    /** Requests whose prompt is being prefilled in chunks (running, not yet decoding). */
    public int numPrefilling() {
        return prefilling.size();
    }

    /**
     * A request whose prefill is under way leaves the executor without finishing it (its engine refused it, or its step
     * failed); the driver answers it.
     */
    public void abandonPrefill(R request) {
        prefilling.removeIf(r -> r == request);
        numComputedTokens.remove(request);
    }

    /**
     * Every prefill under way goes back to the head of the queue, in admission order, its progress forgotten (vLLM's
     * preemption by recompute): a switch to a policy that does not chunk prompts would never continue them. Returns
     * them, for the driver to free what their chunks computed.
     */
    public List<R> requeuePrefills() {
        List<R> out = new ArrayList<>(prefilling);
        prefilling.clear();
        numComputedTokens.clear();
        requeueFirst(out);
        return out;
    }

    /** Requests whose prefill is under way, in admission order (for drivers that answer them on shutdown). */
    public List<R> prefilling() {
        return prefilling;
    }

    /** The plan of the step in progress. */
    public StepPlan plan() {
        return plan;
    }

    /** Up to {@code n} waiting requests, in arrival order, for the step's encode. */
    public List<R> take(int n) {
        List<R> out = new ArrayList<>(Math.min(n, waiting.size()));
        while (out.size() < n && !waiting.isEmpty()) {
            out.add(waiting.poll());
        }
        return out;
    }

    /** Waiting requests that join the batch at this iteration boundary without an encode (a decoder's hand-overs). */
    public List<R> takeAll() {
        return take(waiting.size());
    }

    /** Requests taken for a step that did not run go back to the head of the queue, in their order. */
    public void requeueFirst(List<R> requests) {
        for (int i = requests.size() - 1; i >= 0; i--) {
            waiting.addFirst(requests.get(i));
        }
    }

    /**
     * Every active member leaves the executor: an encoder side's hand-over of its encoded requests to the decoder
     * side (PAPER.md §5.2), or a failed step whose members are answered with an error.
     */
    public List<R> drainActive() {
        List<R> out = new ArrayList<>(active);
        active.clear();
        return out;
    }

    /** Encoded (or imported) requests join the active set. */
    public void admit(Collection<R> encoded) {
        active.addAll(encoded);
    }

    /** The batch as a static policy sees it: the active set, then the finished members it holds. */
    public List<R> batchMembers() {
        if (held.isEmpty()) {
            return active;
        }
        List<R> all = new ArrayList<>(active);
        all.addAll(held);
        return all;
    }

    /** The active set, in admission order (the driver's next decode iteration runs exactly these). */
    public List<R> active() {
        return active;
    }

    /**
     * Moves finished members out of the active set. With early termination they are returned at once, to be answered
     * now; without it (static batching) they are held, and all of them are returned together when the last member of
     * the batch finishes.
     */
    public List<R> retire() {
        List<R> done = new ArrayList<>();
        for (Iterator<R> it = active.iterator(); it.hasNext(); ) {
            R r = it.next();
            if (finished.test(r)) {
                it.remove();
                done.add(r);
            }
        }
        if (policy.earlyTermination()) {
            return done;
        }
        held.addAll(done);
        if (!active.isEmpty() || held.isEmpty()) {
            return List.of();
        }
        List<R> batch = new ArrayList<>(held);
        held.clear();
        return batch;
    }

    /** The step is over; {@code numCompleted} requests finished in it. */
    public void endStep(int numCompleted) {
        policy.onStepEnd(plan, numCompleted);
    }

    public int numWaiting() {
        return waiting.size();
    }

    /** Active members, held ones included. */
    public int numActive() {
        return active.size() + held.size();
    }

    /** The waiting requests, in order (for drivers that must look at them, e.g. to answer them on shutdown). */
    public Collection<R> waiting() {
        return waiting;
    }
}
