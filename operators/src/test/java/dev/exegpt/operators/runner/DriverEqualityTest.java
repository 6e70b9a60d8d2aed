package dev.exegpt.operators.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.runtime.engine.ChunkedPrefillEngine;
import dev.exegpt.runtime.engine.EncodeResult;
import dev.exegpt.runtime.engine.GenerationRequest;
import dev.exegpt.runtime.engine.Sequence;
import dev.exegpt.runtime.engine.StepEngine;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpecs;
import dev.exegpt.scheduler.cost.RooflineCostModel;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.plan.Role;
import dev.exegpt.scheduler.policy.StepPlan;
import dev.exegpt.scheduler.sim.EventSimulator;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.SimResult;
import dev.exegpt.scheduler.sim.StepCost;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.LengthSample;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * The two drivers of the scheduling core take the same steps (DESIGN.md §4): the same plan and the same requests run
 * through the event simulator (virtual clock, cost model) and through {@link ExecutorRunner} on an engine whose
 * steps take what the same cost model says ({@link StepCost}) on a virtual clock. Both must take the same sequence of
 * steps (kind, start, end, encode batch) and give every request the same encode start, first token and finish time.
 * A change to the mechanism or the policy setup in one driver alone shows here.
 */
class DriverEqualityTest {

    private static final XSimulator X = xsim(1);
    /** vLLM V1 serves decoder-only models: its plans run on OPT-13B's roofline, one A40, task S. */
    private static final XSimulator X_DECODER_ONLY = new XSimulator(new Scenario(
            new RooflineCostModel(ModelSpecs.byName("opt-13b"), DeviceSpec.A40), 1, 8, Workloads.byName("S"), SimOptions.DEFAULTS));

    /** T5-11B's roofline on {@code numDevices} A40s, task S. */
    private static XSimulator xsim(int numDevices) {
        return new XSimulator(new Scenario(new RooflineCostModel(ModelSpecs.byName("t5-11b"), DeviceSpec.A40), numDevices, 8,
                Workloads.byName("S"), SimOptions.DEFAULTS));
    }

    private static XSimulator xsimFor(Candidate plan) {
        return plan.policy() == Policy.VLLM_V1 ? X_DECODER_ONLY : X;
    }
    private static final double TOLERANCE_MS = 1e-6;

    static List<Arguments> plans() {
        List<Arguments> out = new ArrayList<>();
        for (boolean bulk : List.of(true, false)) {
            out.add(Arguments.of(Candidate.rra(1, 4, 3, 1, 0), bulk));
            out.add(Arguments.of(Candidate.rra(1, 8, 1, 1, 0), bulk));
            out.add(Arguments.of(new Candidate(Policy.STATIC, 1, 6, 1, 0, 1, 0, 0), bulk));
            out.add(Arguments.of(new Candidate(Policy.CONTINUOUS, 1, 1, 1, 0, 1, 0, 0), bulk));
            // vLLM V0: prompt-only steps bounded by the budget (some prompts do not fit with others) and the cap.
            out.add(Arguments.of(Candidate.vllm(Policy.VLLM_V0, 1, 8, 512, 1, 0), bulk));
            // vLLM V1: a budget below most prompts, so that they are prefilled in chunks across steps, beside decodes.
            out.add(Arguments.of(Candidate.vllm(Policy.VLLM_V1, 1, 6, 64, 1, 0), bulk));
            out.add(Arguments.of(Candidate.vllm(Policy.VLLM_V1, 1, 16, 512, 1, 0), bulk));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}, bulk {1}")
    @MethodSource("plans")
    void theRunnerShouldTakeTheStepsTheSimulatorTakes(Candidate plan, boolean bulk) throws Exception {
        List<EventSimulator.GivenRequest> requests = requests(48, bulk, 7);
        EventSimulator.Run simulated = new EventSimulator(xsimFor(plan)).run(plan, requests);
        Executed executed = execute(plan, requests);

        List<SimResult.TimelineStep> simSteps = simulated.result().timeline();
        System.out.printf("%s, bulk %s: %d steps, last request done at %.1f ms in both drivers%n", plan.describe(), bulk,
                simSteps.size(), simSteps.get(simSteps.size() - 1).endMs());
        int mixedSteps = 0;
        for (int i = 0; i < Math.min(simSteps.size(), executed.steps.size()); i++) {
            SimResult.TimelineStep s = simSteps.get(i);
            Step e = executed.steps.get(i);
            String at = "step " + i + ": simulated " + s + ", executed " + e;
            assertEquals(s.kind(), e.kind.name(), at);
            assertEquals(s.startMs(), e.startMs, TOLERANCE_MS, at);
            assertEquals(s.endMs(), e.endMs, TOLERANCE_MS, at);
            if (e.kind == StepPlan.Kind.ENCODE) {
                assertEquals(s.batchSize(), e.numToEncode, at);
            }
            if (e.kind == StepPlan.Kind.MIXED) {
                mixedSteps++;
            }
        }
        assertEquals(simSteps.size(), executed.steps.size(), "number of steps");
        assertEquals(plan.policy() == Policy.VLLM_V1, mixedSteps > 0, "chunked-prefill steps exactly under VLLM_V1");
        for (int i = 0; i < requests.size(); i++) {
            EventSimulator.RequestTimes s = simulated.requests().get(i);
            InferenceResult r = executed.results.get("q" + i);
            assertTrue(r != null, "request " + i + " answered");
            double arrived = r.getLatency().getArrivedEpochMs();
            String at = "request " + i + " " + requests.get(i);
            assertEquals(s.encodeStartMs(), arrived + r.getLatency().getQueueMs(), TOLERANCE_MS, at + ": encode start");
            assertEquals(s.firstTokenMs(), arrived + r.getLatency().getTtftMs(), TOLERANCE_MS, at + ": first token");
            assertEquals(s.finishMs(), arrived + r.getLatency().getEndToEndMs(), TOLERANCE_MS, at + ": finish");
            assertEquals(requests.get(i).numOutputTokens(), r.getNumOutputTokens(), at);
        }
    }

    static List<Arguments> splitPlans() {
        List<Arguments> out = new ArrayList<>();
        for (boolean bulk : List.of(true, false)) {
            out.add(Arguments.of(Candidate.waa(Policy.WAA_C, 2, 4, 0, 1, 0), bulk));
            out.add(Arguments.of(new Candidate(Policy.WAA_M, 3, 6, 1, 3, 1, 0, 1), bulk));
            out.add(Arguments.of(new Candidate(Policy.DISAGGREGATED, 2, 4, 1, 0, 1, 0, 1), bulk));
        }
        return out;
    }

    /**
     * WAA and DISAGGREGATED: an encoder group hands its encoded requests over to a decoder group, and the encoder
     * steers by the decoder's backlog (PAPER.md §7). The two stepped runners share one timeline: every event (an
     * arrival, a hand-over reaching the decoder after the encoder's pass and the state transfer, a step's end) is
     * taken in time order, as the simulator takes it, and a free runner decides once everything due by then is in.
     * The decoder's backlog, as the encoder sees it, changes when its step ends, as in the simulator.
     */
    @ParameterizedTest(name = "{0}, bulk {1}")
    @MethodSource("splitPlans")
    void encoderAndDecoderRunnersShouldTakeTheStepsTheSimulatorTakes(Candidate plan, boolean bulk) throws Exception {
        XSimulator x = xsim(plan.numDevices());
        List<EventSimulator.GivenRequest> requests = requests(48, bulk, 7);
        EventSimulator.Run simulated = new EventSimulator(x).run(plan, requests);
        Schedule schedule = ScheduleCodec.fromEstimate(x.estimate(plan),
                new ScheduleCodec.Origin("equality", "a40", "S", 0), Double.POSITIVE_INFINITY, Map.of());
        XSimulator.Layout layout = x.layout(plan);
        StepCost encoderCost = new StepCost(layout.encoder());
        VirtualClock[] clocks = {new VirtualClock(), new VirtualClock()};
        Map<String, GenerationRequest> inTransit = new HashMap<>();
        Map<String, InferenceResult> results = new HashMap<>();
        List<Object[]> steps = new ArrayList<>();                   // executor, kind, start, end
        List<Handover> handedOver = new ArrayList<>();
        BpeTokenizer tokenizer = new BpeTokenizer(ModelSize.TINY.config(Architecture.T5));
        try (ExecutorRunner encoder = ExecutorRunner.stepped(new ClockedEngine(clocks[0], encoderCost, 0, inTransit), tokenizer,
                     schedule, Role.ENCODER, "enc-0", clocks[0]);
             ExecutorRunner decoder = ExecutorRunner.stepped(new ClockedEngine(clocks[1], new StepCost(layout.decoder()),
                     layout.microBatch(), inTransit), tokenizer, schedule, Role.DECODER, "dec-0", clocks[1])) {
            int[] retiredInStep = {0};                               // what the decoder's step in progress will retire
            encoder.observeDecoderBacklog(() -> decoder.numBacklog() + retiredInStep[0]);
            ExecutorRunner[] runners = {encoder, decoder};
            java.util.PriorityQueue<double[]> events = new java.util.PriorityQueue<>(
                    java.util.Comparator.<double[]>comparingDouble(e -> e[0]).thenComparingDouble(e -> e[1]).thenComparingDouble(e -> e[2]));
            Map<Long, List<Handover>> deliveries = new HashMap<>();
            long seq = 0;
            for (int i = 0; i < requests.size(); i++) {
                events.add(new double[] {requests.get(i).arrivedMs(), 0, seq++, i});          // arrival of request i
            }
            boolean[] busy = new boolean[2];
            while (!events.isEmpty()) {
                double now = events.peek()[0];
                while (!events.isEmpty() && events.peek()[0] == now) {
                    double[] e = events.poll();
                    if (e[1] == 0) {
                        encoder.submit(request((int) e[3], requests.get((int) e[3])), r -> results.put(r.getRequestId(), r),
                                handedOver::add);
                    } else if (e[1] == 1) {
                        for (Handover h : deliveries.remove((long) e[2])) {
                            decoder.submit(h, r -> results.put(r.getRequestId(), r));
                        }
                    } else {
                        busy[(int) e[3]] = false;
                        if (e[3] == 1) {
                            retiredInStep[0] = 0;
                        }
                    }
                }
                for (int i = 0; i < 2; i++) {
                    if (busy[i]) {
                        continue;
                    }
                    clocks[i].set(now);
                    int backlogBefore = decoder.numBacklog();
                    StepPlan step = runners[i].runOneStep();
                    if (step.kind() == StepPlan.Kind.IDLE) {
                        continue;
                    }
                    busy[i] = true;
                    events.add(new double[] {clocks[i].nowEpochMs(), 2, seq++, i});
                    steps.add(new Object[] {i, step.kind().name(), now, clocks[i].nowEpochMs()});
                    if (i == 0 && !handedOver.isEmpty()) {
                        int[] lengths = handedOver.stream().mapToInt(h -> h.request().numInputTokens()).toArray();
                        double ready = now + encoderCost.encodePassMs(lengths) + encoderCost.handoverTransferMs(lengths);
                        deliveries.put(seq, new ArrayList<>(handedOver));
                        events.add(new double[] {ready, 1, seq++, 1});
                        handedOver.clear();
                    }
                    if (i == 1) {
                        retiredInStep[0] = Math.max(0, backlogBefore - decoder.numBacklog());
                    }
                }
            }
        }
        List<SimResult.TimelineStep> simSteps = simulated.result().timeline();
        System.out.printf("%s, bulk %s: %d steps over two groups, last request done at %.1f ms in both drivers%n",
                plan.describe(), bulk, simSteps.size(), simSteps.get(simSteps.size() - 1).endMs());
        for (int i = 0; i < Math.min(simSteps.size(), steps.size()); i++) {
            SimResult.TimelineStep s = simSteps.get(i);
            Object[] e = steps.get(i);
            String at = "step " + i + ": simulated " + s + ", executed " + java.util.Arrays.toString(e);
            assertEquals(s.executor(), (int) e[0], at);
            assertEquals(s.kind(), e[1], at);
            assertEquals(s.startMs(), (double) e[2], TOLERANCE_MS, at);
            assertEquals(s.endMs(), (double) e[3], TOLERANCE_MS, at);
        }
        assertEquals(simSteps.size(), steps.size(), "number of steps");
        assertEquals(requests.size(), results.size(), "every request answered");
        for (int i = 0; i < requests.size(); i++) {
            EventSimulator.RequestTimes s = simulated.requests().get(i);
            InferenceResult r = results.get("q" + i);
            double arrived = r.getLatency().getArrivedEpochMs();
            String at = "request " + i + " " + requests.get(i);
            assertEquals(s.encodeStartMs(), arrived + r.getLatency().getQueueMs(), TOLERANCE_MS, at + ": encode start");
            assertEquals(s.firstTokenMs(), arrived + r.getLatency().getTtftMs(), TOLERANCE_MS, at + ": first token");
            assertEquals(s.finishMs(), arrived + r.getLatency().getEndToEndMs(), TOLERANCE_MS, at + ": finish");
            assertEquals("dec-0", r.getExecutorId(), at);
        }
    }

    /** Sampled lengths of the task; all at 0 (bulk) or Poisson at about 2 requests/s, on whole milliseconds. */
    private static List<EventSimulator.GivenRequest> requests(int n, boolean bulk, long seed) {
        RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        List<EventSimulator.GivenRequest> out = new ArrayList<>();
        double at = 0;
        for (int i = 0; i < n; i++) {
            LengthSample s = X.scenario().workload().sample(rng);
            if (!bulk) {
                at += Math.floor(-Math.log(1 - rng.nextDouble()) * 500);
            }
            out.add(new EventSimulator.GivenRequest(s.numInputTokens(), s.numOutputTokens(), at));
        }
        return out;
    }

    private record Step(StepPlan.Kind kind, int numToEncode, double startMs, double endMs) {}

    private record Executed(List<Step> steps, Map<String, InferenceResult> results) {}

    /** The plan as the job would run it (its schedule, the registry's policy), on the clocked engine. */
    private static Executed execute(Candidate plan, List<EventSimulator.GivenRequest> requests) throws Exception {
        XSimulator x = xsimFor(plan);
        Schedule schedule = ScheduleCodec.fromEstimate(x.estimate(plan),
                new ScheduleCodec.Origin("equality", "a40:1", "S", 0), Double.POSITIVE_INFINITY, Map.of());
        VirtualClock clock = new VirtualClock();
        ClockedEngine engine = new ClockedEngine(clock, new StepCost(x.layout(plan).encoder()));
        Map<String, InferenceResult> results = Collections.synchronizedMap(new HashMap<>());
        List<Step> steps = new ArrayList<>();
        try (ExecutorRunner runner = ExecutorRunner.stepped(engine, new BpeTokenizer(ModelSize.TINY.config(Architecture.T5)),
                schedule, Role.FULL, "equality-0", clock)) {
            int next = 0;
            while (results.size() < requests.size()) {
                while (next < requests.size() && requests.get(next).arrivedMs() <= clock.nowEpochMs()) {
                    ValidRequest r = request(next, requests.get(next));
                    runner.submit(r, result -> results.put(result.getRequestId(), result));
                    next++;
                }
                double start = clock.nowEpochMs();
                StepPlan plan2 = runner.runOneStep();
                if (plan2.kind() == StepPlan.Kind.IDLE) {
                    assertTrue(next < requests.size(), "idle with nothing left to arrive and " + (requests.size() - results.size())
                            + " requests unanswered");
                    clock.set(requests.get(next).arrivedMs());
                    continue;
                }
                steps.add(new Step(plan2.kind(), plan2.numToEncode(), start, clock.nowEpochMs()));
            }
        }
        return new Executed(steps, results);
    }

    private static ValidRequest request(int i, EventSimulator.GivenRequest g) {
        int[] prompt = new int[g.numInputTokens()];
        java.util.Arrays.fill(prompt, 5);
        InferenceRequest r = InferenceRequest.newBuilder().setRequestId("q" + i).setTask("summarization").setPromptText("")
                .setMaxNewTokens(g.numOutputTokens()).setIgnoreEos(true).build();
        return new ValidRequest(r, prompt, (long) g.arrivedMs(), 0, 0);
    }

    /** Time that moves only when a step is charged, or when the driver waits for the next arrival. */
    static final class VirtualClock implements RunnerClock {
        private double nowMs;

        @Override
        public double nowEpochMs() {
            return nowMs;
        }

        void advance(double ms) {
            nowMs += ms;
        }

        void set(double ms) {
            nowMs = Math.max(nowMs, ms);
        }
    }

    /**
     * An engine whose steps take what {@link StepCost} says, on the virtual clock: an encode computes no token (an
     * encoder-decoder model), each decode iteration gives every sequence one token (id 7, never EOS), so a request
     * with {@code ignoreEos} ends at exactly its maxNewTokens. A vLLM V1 step is charged
     * {@link StepCost#mixedStepMs}; a chunk computes no token either; {@link #start} gives the request a detached sequence.
     */
    static final class ClockedEngine implements ChunkedPrefillEngine {
        private final VirtualClock clock;
        private final StepCost cost;
        private final int microBatch;                              // 0: one per stage
        private final Map<String, GenerationRequest> exported;      // what a decoder group's engine imports from

        ClockedEngine(VirtualClock clock, StepCost cost) {
            this(clock, cost, 0, new HashMap<>());
        }

        ClockedEngine(VirtualClock clock, StepCost cost, int microBatch, Map<String, GenerationRequest> exported) {
            this.clock = clock;
            this.cost = cost;
            this.microBatch = microBatch;
            this.exported = exported;
        }

        @Override
        public EncodeResult encode(List<GenerationRequest> batch) {
            int[] lengths = new int[batch.size()];
            List<Sequence> admitted = new ArrayList<>();
            for (int i = 0; i < lengths.length; i++) {
                lengths[i] = batch.get(i).promptTokens().length;
                admitted.add(Sequence.detached(batch.get(i), batch.get(i).promptTokens()));
            }
            clock.advance(cost.encodeMs(lengths));
            return new EncodeResult(admitted, Map.of());
        }

        @Override
        public int[] decode(List<Sequence> active) {
            int n = active.size();
            long context = 0;
            for (Sequence s : active) {
                context += s.promptTokens().length + s.numGenerated();
            }
            int meanContext = (int) (context / Math.max(1, n));
            clock.advance(cost.decodeMs(n, meanContext, microBatch > 0 ? microBatch : cost.decodeMicroBatch(n)));
            int[] tokens = new int[n];
            for (int i = 0; i < n; i++) {
                active.get(i).record(7, -1);
                tokens[i] = 7;
            }
            return tokens;
        }

        @Override
        public String chunkedPrefillRefusal() {
            return null;
        }

        @Override
        public Sequence start(GenerationRequest request) {
            return Sequence.detached(request, request.promptTokens());
        }

        @Override
        public void step(List<Sequence> decoding, List<PromptChunk> chunks) {
            int n = decoding.size();
            long context = 0;
            for (Sequence s : decoding) {
                context += s.promptTokens().length + s.numGenerated();
            }
            int[] computed = new int[chunks.size()];
            int[] tokens = new int[chunks.size()];
            for (int i = 0; i < tokens.length; i++) {
                PromptChunk c = chunks.get(i);
                computed[i] = c.numComputedTokens();
                tokens[i] = c.numTokens();
            }
            clock.advance(cost.mixedStepMs(n, (int) (context / Math.max(1, n)), cost.decodeMicroBatch(n), computed, tokens));
            for (Sequence s : decoding) {
                s.record(7, -1);
            }
        }

        @Override
        public void release(Sequence s) {}

        /** An encoder-decoder sequence has no token after its encode: its request is all the state there is. */
        @Override
        public byte[] exportState(Sequence s) {
            exported.put(s.requestId(), s.request());
            return s.requestId().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }

        @Override
        public Sequence importState(byte[] bytes) {
            GenerationRequest r = exported.remove(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
            return Sequence.detached(r, r.promptTokens());
        }
    }
}
