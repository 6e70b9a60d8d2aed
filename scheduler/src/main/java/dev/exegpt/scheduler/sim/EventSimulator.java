package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.plan.ExecutorCore;
import dev.exegpt.scheduler.plan.PlanArgs;
import dev.exegpt.scheduler.plan.PolicyRegistry;
import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.schemas.Schedule;
import java.util.Map;

import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.policy.BatchingPolicy;
import dev.exegpt.scheduler.policy.StepPlan;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.scheduler.workload.LengthSample;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.IntToDoubleFunction;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * The discrete-event check of {@link XSimulator} (STYLE.md C10): sampled requests, each with its own lengths, pass
 * through the same pipelines and cost model, driven by the same {@link BatchingPolicy} classes the executors use.
 * One executor per device group; WAA and DISAGGREGATED have an encoder and a decoder executor joined by hand-overs.
 */
public final class EventSimulator {
    private static final int MAX_TIMELINE_STEPS = 10_000;
    /** Input lengths of this many waiting requests are shown to a policy (workload-based batching). */
    private static final int HEAD_LENGTHS = 1024;
    private final XSimulator x;

    public EventSimulator(XSimulator x) {
        this.x = x;
    }

    /** One executor: the shared mechanism, and what only the simulator tracks (its pipeline, the batch in encode). */
    private static final class Executor {
        final ExecutorCore<SimRequest> core;
        final Pipeline pipeline;
        final StepCost cost;
        List<SimRequest> encoding = List.of();
        List<ExecutorCore.Chunk<SimRequest>> chunks = List.of();       // a MIXED step's prompt chunks
        boolean busy;
        boolean afterEncode;

        Executor(BatchingPolicy policy, Pipeline pipeline) {
            this.core = new ExecutorCore<>(policy, r -> r.numInputTokens, SimRequest::done, HEAD_LENGTHS);
            this.pipeline = pipeline;
            this.cost = new StepCost(pipeline);
        }
    }

    public SimResult run(Candidate c, int numRequests, long seed, ArrivalProcess arrivals) {
        Scenario sc = x.scenario();
        RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        double[] at = arrivals.arrivalsMs(numRequests, rng);
        List<SimRequest> all = new ArrayList<>(numRequests);
        for (int i = 0; i < numRequests; i++) {
            LengthSample s = sc.workload().sample(rng);
            all.add(new SimRequest(i, s.numInputTokens(), s.numOutputTokens(), at[i]));
        }
        return simulate(c, all);
    }

    /** A request the caller gives: its lengths (the output length it will have) and its arrival, ms. */
    public record GivenRequest(int numInputTokens, int numOutputTokens, double arrivedMs) {}

    /** When a given request's encode started, its first token came and its last token came, ms. */
    public record RequestTimes(double encodeStartMs, double firstTokenMs, double finishMs) {}

    /** A run over given requests: the summary, and each request's times in the order given. */
    public record Run(SimResult result, List<RequestTimes> requests) {}

    /** Runs the plan over exactly these requests (the driver-equality test gives the executors the same ones). */
    public Run run(Candidate c, List<GivenRequest> requests) {
        List<SimRequest> all = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            GivenRequest g = requests.get(i);
            all.add(new SimRequest(i, g.numInputTokens(), g.numOutputTokens(), g.arrivedMs()));
        }
        SimResult result = simulate(c, all);
        List<RequestTimes> times = new ArrayList<>(all.size());
        for (SimRequest r : all) times.add(new RequestTimes(r.encodeStartMs, r.firstTokenMs, r.finishMs));
        return new Run(result, times);
    }

    private SimResult simulate(Candidate c, List<SimRequest> all) {
        long startNanos = System.nanoTime();
        XSimulator.Layout layout = x.layout(c);
        if (layout == null) throw new IllegalArgumentException("candidate has more pipeline stages than layers: " + c.describe());
        PriorityQueue<Event> queue = new PriorityQueue<>(Comparator.comparingDouble(Event::atMs)
                .thenComparingInt(Event::priority).thenComparingLong(Event::seq));
        long[] seq = {0};
        for (SimRequest r : all) {
            queue.add(new Event.RequestArrived(r.arrivedMs, seq[0]++, r));
        }
        Executor[] ex = executors(c, layout);
        int[] inFlight = {0};
        List<SimResult.TimelineStep> timeline = new ArrayList<>();
        double[] busyDeviceMs = {0};
        List<double[]> decodeBatches = new ArrayList<>();   // (startMs, active, afterEncode ? 1 : 0)
        Event e;
        while ((e = queue.poll()) != null) {
            double now = e.atMs();
            if (e instanceof Event.RequestArrived a) {
                ex[0].core.enqueue(a.request());
            } else if (e instanceof Event.HandoverArrived h) {
                h.requests().forEach(ex[1].core::enqueue);
                inFlight[0] -= h.requests().size();
            } else if (e instanceof Event.StepEnded s) {
                endStep(ex[s.executor()], now);
            }
            if (!queue.isEmpty() && queue.peek().atMs() == now) continue;   // decide once everything due now is in
            for (int i = 0; i < ex.length; i++) {
                Executor me = ex[i];
                if (me.busy) continue;
                // What the decoder holds or will merge at its next iteration; batches still inside the encoder
                // pipeline are not counted, or a pipelined encoder would be throttled by its own depth.
                int backlog = ex.length > 1 ? ex[1].core.numActive() + ex[1].core.numWaiting() : 0;
                StepPlan plan = me.core.decide(i == 0 ? backlog : 0, now);
                if (plan.kind() == StepPlan.Kind.IDLE) continue;
                double durationMs = startStep(me, plan, now, layout, ex.length > 1 && i == 0, queue, seq, inFlight,
                        busyDeviceMs, decodeBatches);
                me.busy = true;
                queue.add(new Event.StepEnded(now + durationMs, seq[0]++, i));
                if (timeline.size() < MAX_TIMELINE_STEPS) {
                    int size = plan.kind() == StepPlan.Kind.ENCODE ? plan.numToEncode() : me.core.numActive();
                    timeline.add(new SimResult.TimelineStep(i, plan.kind().name(), now, now + durationMs, size));
                }
            }
        }
        return summarise(all, decodeBatches, busyDeviceMs[0], timeline, startNanos);
    }

    /**
     * The plan's executors as the job runs them: the candidate is read as the schedule it would be published as, and
     * {@link PolicyRegistry} gives each role its policy, with the arguments the job's executors get for that schedule.
     */
    private Executor[] executors(Candidate c, XSimulator.Layout layout) {
        Schedule schedule = ScheduleCodec.fromEstimate(x.estimate(c), SIMULATED, Double.POSITIVE_INFINITY, Map.of());
        PlanArgs args = ScheduleCodec.planArgs(schedule, layout.decoder().stages().size(),
                x.scenario().workload().meanInputTokens());
        List<Role> roles = PolicyRegistry.roles(c.policy());
        Executor[] ex = new Executor[roles.size()];
        for (int i = 0; i < ex.length; i++) {
            Role role = roles.get(i);
            ex[i] = new Executor(PolicyRegistry.policy(args, role), role == Role.DECODER ? layout.decoder() : layout.encoder());
        }
        return ex;
    }

    private static final ScheduleCodec.Origin SIMULATED = new ScheduleCodec.Origin("simulated", "simulated", "simulated", 0);

    private double startStep(Executor me, StepPlan plan, double now, XSimulator.Layout layout, boolean splitEncoder,
                             PriorityQueue<Event> queue, long[] seq, int[] inFlight, double[] busy, List<double[]> batches) {
        Scenario sc = x.scenario();
        Pipeline p = me.pipeline;
        int stages = p.stages().size();
        if (plan.kind() == StepPlan.Kind.ENCODE) {
            List<SimRequest> batch = started(me.core.take(plan.numToEncode()), now);
            int b = batch.size();
            busy[0] += overLengths(batch, len -> p.deviceBusyMs(Phase.ENCODE, b, len, Math.max(1, b / stages)));
            if (splitEncoder) {
                int[] lengths = lengths(batch);
                double ready = now + me.cost.encodePassMs(lengths) + me.cost.handoverTransferMs(lengths);
                queue.add(new Event.HandoverArrived(ready, seq[0]++, batch));
                inFlight[0] += b;
                return me.cost.encodeBottleneckMs(lengths);   // the encoder pipeline takes the next batch
            }
            me.encoding = batch;
            me.afterEncode = true;
            return me.cost.encodeMs(lengths(batch));
        }
        if (layout.split() && me.pipeline == layout.decoder()) {
            me.core.admit(me.core.takeAll());   // WAA: merge handed-over requests at the iteration boundary (§5.2)
        }
        List<SimRequest> admitted = List.of();
        if (plan.kind() == StepPlan.Kind.MIXED) {
            me.chunks = me.core.takeChunks();
            for (ExecutorCore.Chunk<SimRequest> ch : me.chunks) {
                if (ch.numComputedTokens() == 0) ch.request().encodeStartMs = now;   // its first chunk
            }
        } else {
            admitted = started(me.core.take(plan.numToEncode()), now);
            me.core.admit(admitted);
        }
        // The sequences still generating, as the engine decodes them: a static batch's finished members wait, held,
        // without being computed.
        List<SimRequest> members = me.core.active();
        int n = members.size();
        long ctx = 0;
        for (SimRequest r : members) ctx += r.numInputTokens + r.generated;
        int meanCtx = (int) (ctx / Math.max(1, n));
        int mb = layout.microBatch() > 0 && layout.split() ? layout.microBatch() : me.cost.decodeMicroBatch(n);
        batches.add(new double[] {now, n, me.afterEncode ? 1 : 0});
        me.afterEncode = false;
        busy[0] += p.deviceBusyMs(Phase.DECODE, n, meanCtx, mb);
        if (plan.kind() == StepPlan.Kind.MIXED) {
            int[] computed = new int[me.chunks.size()], tokens = new int[me.chunks.size()];
            for (int i = 0; i < tokens.length; i++) {
                computed[i] = me.chunks.get(i).numComputedTokens();
                tokens[i] = me.chunks.get(i).numTokens();
            }
            return me.cost.mixedStepMs(n, meanCtx, mb, computed, tokens);
        }
        return me.cost.decodeWithPrefillsMs(n, meanCtx, mb, lengths(admitted));
    }

    private static void endStep(Executor me, double now) {
        int completed = 0;
        if (me.core.plan().kind() == StepPlan.Kind.ENCODE) {
            me.core.admit(me.encoding);
            me.encoding = List.of();
        } else {
            for (SimRequest r : me.core.active()) {
                r.generated++;
                if (r.generated == 1) r.firstTokenMs = now;
            }
            List<SimRequest> retired = me.core.retire();
            for (SimRequest r : retired) r.finishMs = now;   // static batching returns the batch together
            completed = retired.size();
            if (me.core.plan().kind() == StepPlan.Kind.MIXED) {
                me.core.finishChunks(me.chunks);             // complete prompts decode from the next step on
                me.chunks = List.of();
            }
        }
        me.core.endStep(completed);
        me.busy = false;
    }

    private static int[] lengths(List<SimRequest> batch) {
        int[] out = new int[batch.size()];
        for (int i = 0; i < out.length; i++) out[i] = batch.get(i).numInputTokens;
        return out;
    }

    /** Requests whose encode starts now. */
    private static List<SimRequest> started(List<SimRequest> batch, double now) {
        for (SimRequest r : batch) r.encodeStartMs = now;
        return batch;
    }

    /**
     * An encode step's cost over the batch's own prompt lengths: the average of {@code cost} at each length, as
     * {@link XSimulator#overInputs} averages over the distribution (the cost is convex in the length, so the cost
     * at the batch's mean length would be too low).
     */
    private static double overLengths(List<SimRequest> batch, IntToDoubleFunction cost) {
        double sum = 0;
        for (SimRequest r : batch) sum += cost.applyAsDouble(Math.max(1, r.numInputTokens));
        return sum / Math.max(1, batch.size());
    }

    private SimResult summarise(List<SimRequest> all, List<double[]> batches, double busyDeviceMs,
                                List<SimResult.TimelineStep> timeline, long startNanos) {
        Scenario sc = x.scenario();
        int n = all.size();
        double[] finish = all.stream().mapToDouble(r -> r.finishMs).sorted().toArray();
        double lo = finish[(int) (n * 0.1)], hi = finish[Math.min(n - 1, (int) (n * 0.9))];
        double seqPerSec = hi > lo ? (0.8 * n) * 1000 / (hi - lo) : n * 1000 / finish[n - 1];
        int bound = sc.workload().boundOutputTokens();
        double boundLatency = all.stream().filter(r -> Math.abs(r.numOutputTokens - bound) <= 2 && r.finishMs >= lo && r.finishMs <= hi)
                .mapToDouble(r -> r.finishMs - r.encodeStartMs).max().orElse(Double.NaN);
        double[] service = all.stream().mapToDouble(r -> r.finishMs - r.encodeStartMs).sorted().toArray();
        double[] e2e = all.stream().mapToDouble(r -> r.finishMs - r.arrivedMs).sorted().toArray();
        double[] ttft = all.stream().mapToDouble(r -> r.firstTokenMs - r.arrivedMs).sorted().toArray();
        double tpot = all.stream().filter(r -> r.numOutputTokens > 1)
                .mapToDouble(r -> (r.finishMs - r.firstTokenMs) / (r.numOutputTokens - 1)).average().orElse(0);
        double batchSum = 0, afterSum = 0;
        int batchCount = 0, afterCount = 0;
        for (double[] b : batches) {
            if (b[0] < lo || b[0] > hi) continue;
            batchSum += b[1];
            batchCount++;
            if (b[2] == 1) { afterSum += b[1]; afterCount++; }
        }
        double meanOut = all.stream().mapToInt(r -> r.numOutputTokens).average().orElse(0);
        return new SimResult(n, seqPerSec, seqPerSec * meanOut, boundLatency, pct(service, 0.5), pct(service, 0.99),
                pct(e2e, 0.5), pct(e2e, 0.99), pct(ttft, 0.5), pct(ttft, 0.99), tpot,
                batchCount == 0 ? 0 : batchSum / batchCount, afterCount == 0 ? 0 : afterSum / afterCount,
                Math.min(1, busyDeviceMs / (sc.numDevices() * finish[n - 1])), (System.nanoTime() - startNanos) / 1e6,
                List.copyOf(timeline), finish[n - 1] - all.stream().mapToDouble(r -> r.arrivedMs).min().orElse(0));
    }

    private static double pct(double[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
    }
}
