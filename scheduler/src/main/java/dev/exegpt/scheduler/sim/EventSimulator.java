package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.policy.BatchingPolicy;
import dev.exegpt.scheduler.policy.ContinuousBatching;
import dev.exegpt.scheduler.policy.ExecutorView;
import dev.exegpt.scheduler.policy.RoundRobinAllocation;
import dev.exegpt.scheduler.policy.StaticBatching;
import dev.exegpt.scheduler.policy.StepPlan;
import dev.exegpt.scheduler.policy.WorkloadAwareAllocation;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.scheduler.workload.LengthSample;
import java.util.ArrayDeque;
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

    private static final class Executor {
        final BatchingPolicy policy;
        final Pipeline pipeline;
        final ArrayDeque<SimRequest> waiting = new ArrayDeque<>();
        final List<SimRequest> active = new ArrayList<>();
        List<SimRequest> encoding = List.of();
        StepPlan plan;
        boolean busy;
        boolean afterEncode;

        Executor(BatchingPolicy policy, Pipeline pipeline) {
            this.policy = policy;
            this.pipeline = pipeline;
        }
    }

    public SimResult run(Candidate c, int numRequests, long seed, ArrivalProcess arrivals) {
        long startNanos = System.nanoTime();
        Scenario sc = x.scenario();
        XSimulator.Layout layout = x.layout(c);
        if (layout == null) throw new IllegalArgumentException("candidate has more pipeline stages than layers: " + c.describe());
        RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        double[] at = arrivals.arrivalsMs(numRequests, rng);
        PriorityQueue<Event> queue = new PriorityQueue<>(Comparator.comparingDouble(Event::atMs)
                .thenComparingInt(Event::priority).thenComparingLong(Event::seq));
        long[] seq = {0};
        List<SimRequest> all = new ArrayList<>(numRequests);
        for (int i = 0; i < numRequests; i++) {
            LengthSample s = sc.workload().sample(rng);
            SimRequest r = new SimRequest(i, s.numInputTokens(), s.numOutputTokens(), at[i]);
            all.add(r);
            queue.add(new Event.RequestArrived(at[i], seq[0]++, r));
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
                ex[0].waiting.add(a.request());
            } else if (e instanceof Event.HandoverArrived h) {
                ex[1].waiting.addAll(h.requests());
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
                int backlog = ex.length > 1 ? ex[1].active.size() + ex[1].waiting.size() : 0;
                StepPlan plan = me.policy.next(new ExecutorView(me.waiting.size(), me.active.size(), backlog, now,
                        head(me.waiting, HEAD_LENGTHS)));
                if (plan.kind() == StepPlan.Kind.IDLE) continue;
                double durationMs = startStep(me, plan, now, layout, ex.length > 1 && i == 0, queue, seq, inFlight,
                        busyDeviceMs, decodeBatches);
                me.plan = plan;
                me.busy = true;
                queue.add(new Event.StepEnded(now + durationMs, seq[0]++, i));
                if (timeline.size() < MAX_TIMELINE_STEPS) {
                    int size = plan.kind() == StepPlan.Kind.ENCODE ? plan.numToEncode() : me.active.size();
                    timeline.add(new SimResult.TimelineStep(i, plan.kind().name(), now, now + durationMs, size));
                }
            }
        }
        return summarise(all, decodeBatches, busyDeviceMs[0], timeline, startNanos);
    }

    private Executor[] executors(Candidate c, XSimulator.Layout layout) {
        int stages = layout.decoder().stages().size();
        return switch (c.policy()) {
            case RRA -> new Executor[] {new Executor(new RoundRobinAllocation(c.encodeBatchSize(), c.decodeIterationsPerEncode()), layout.encoder())};
            case STATIC -> new Executor[] {new Executor(new StaticBatching(c.encodeBatchSize()), layout.encoder())};
            case CONTINUOUS -> new Executor[] {new Executor(new ContinuousBatching(stages, Integer.MAX_VALUE), layout.encoder())};
            case WAA_C, WAA_M, DISAGGREGATED -> {
                // The decoder's planned batch; when the encoder is the slower side its hand-overs come in bursts of
                // B_E on top of what is left, so the hold-back threshold is the planned peak, B_D + B_E.
                Estimate e = x.estimate(c);
                boolean encoderBound = e.encodeStageMs() > e.decodeIterationMs();
                int planned = Math.max(1, e.decodeBatchSize() + (encoderBound ? c.encodeBatchSize() : 0));
                yield new Executor[] {
                        new Executor(WorkloadAwareAllocation.encoderSide(c.encodeBatchSize(), planned,
                                x.scenario().workload().meanInputTokens()), layout.encoder()),
                        new Executor(WorkloadAwareAllocation.decoderSide(), layout.decoder())};
            }
        };
    }

    private double startStep(Executor me, StepPlan plan, double now, XSimulator.Layout layout, boolean splitEncoder,
                             PriorityQueue<Event> queue, long[] seq, int[] inFlight, double[] busy, List<double[]> batches) {
        Scenario sc = x.scenario();
        Pipeline p = me.pipeline;
        int stages = p.stages().size();
        if (plan.kind() == StepPlan.Kind.ENCODE) {
            List<SimRequest> batch = take(me.waiting, plan.numToEncode(), now);
            int b = batch.size();
            busy[0] += overLengths(batch, len -> p.deviceBusyMs(Phase.ENCODE, b, len, Math.max(1, b / stages)));
            if (splitEncoder) {
                ModelSpec m = sc.model();
                long kv = (long) b * meanInput(batch) * m.numDecoderLayers() * m.kvBytesPerTokenPerLayer();
                double ready = now + overLengths(batch, len -> p.passMs(Phase.ENCODE, b, len)) + sc.cost().stateTransferMs(kv);
                queue.add(new Event.HandoverArrived(ready, seq[0]++, batch));
                inFlight[0] += b;
                return overLengths(batch, len -> p.bottleneckMs(Phase.ENCODE, b, len));   // the encoder pipeline takes the next batch
            }
            me.encoding = batch;
            me.afterEncode = true;
            return overLengths(batch, len -> p.makespanMs(Phase.ENCODE, b, len, stages));
        }
        if (!me.waiting.isEmpty() && layout.split() && me.pipeline == layout.decoder()) {
            me.active.addAll(me.waiting);   // WAA: merge handed-over requests at the iteration boundary (§5.2)
            me.waiting.clear();
        }
        List<SimRequest> admitted = take(me.waiting, plan.numToEncode(), now);
        me.active.addAll(admitted);
        int n = me.active.size();
        long ctx = 0;
        for (SimRequest r : me.active) ctx += r.numInputTokens + r.generated;
        int meanCtx = (int) (ctx / Math.max(1, n));
        int mb = layout.microBatch() > 0 && layout.split() ? layout.microBatch() : Math.max(1, (n + stages - 1) / stages);
        batches.add(new double[] {now, n, me.afterEncode ? 1 : 0});
        me.afterEncode = false;
        busy[0] += p.deviceBusyMs(Phase.DECODE, n, meanCtx, mb);
        if (admitted.isEmpty()) return p.decodeIterationMs(n, meanCtx, mb);
        int m = (n + mb - 1) / mb;
        return Math.max(p.passMs(Phase.DECODE, mb, meanCtx) + overLengths(admitted, len -> p.passMs(Phase.ENCODE, 1, len)),
                m * (p.bottleneckMs(Phase.DECODE, mb, meanCtx) + overLengths(admitted, len -> p.bottleneckMs(Phase.ENCODE, 1, len))));
    }

    private static void endStep(Executor me, double now) {
        int completed = 0;
        if (me.plan.kind() == StepPlan.Kind.ENCODE) {
            me.active.addAll(me.encoding);
            me.encoding = List.of();
        } else {
            boolean early = me.policy.earlyTermination();
            boolean allDone = true;
            for (SimRequest r : me.active) {
                if (r.done()) continue;
                r.generated++;
                if (r.generated == 1) r.firstTokenMs = now;
                if (r.done() && early) r.finishMs = now;
                allDone &= r.done();
            }
            if (early) {
                int before = me.active.size();
                me.active.removeIf(SimRequest::done);
                completed = before - me.active.size();
            } else if (allDone) {
                for (SimRequest r : me.active) r.finishMs = now;   // static batching returns the batch together
                completed = me.active.size();
                me.active.clear();
            }
        }
        me.policy.onStepEnd(me.plan, completed);
        me.busy = false;
    }

    private static int[] head(ArrayDeque<SimRequest> waiting, int max) {
        int[] out = new int[Math.min(max, waiting.size())];
        int i = 0;
        for (SimRequest r : waiting) {
            if (i == out.length) break;
            out[i++] = r.numInputTokens;
        }
        return out;
    }

    private static List<SimRequest> take(ArrayDeque<SimRequest> from, int n, double now) {
        List<SimRequest> out = new ArrayList<>(n);
        for (int i = 0; i < n && !from.isEmpty(); i++) {
            SimRequest r = from.poll();
            r.encodeStartMs = now;
            out.add(r);
        }
        return out;
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

    private static int meanInput(List<SimRequest> batch) {
        long sum = 0;
        for (SimRequest r : batch) sum += r.numInputTokens;
        return (int) Math.max(1, sum / Math.max(1, batch.size()));
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
