package dev.exegpt.operators.runner;

import dev.exegpt.scheduler.plan.Role;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.runtime.engine.EncodeResult;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.engine.GenerationRequest;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.ModelSize;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/** The executor driving a real tiny model with the scheduler's policies, under the real clock. */
class ExecutorRunnerTest {

    private static final Map<Architecture, Engine> ENGINES = new ConcurrentHashMap<>();

    @BeforeAll
    static void writeModels() throws Exception {
        for (Architecture arch : Architecture.values()) {
            Path dir = Files.createDirectories(Path.of("target", "models", "runner-" + arch.name().toLowerCase()));
            CheckpointWriter.writeRandom(dir, ModelSize.TINY.config(arch), 11);
            ENGINES.put(arch, Engine.load(dir, EngineConfig.DEFAULTS.withThreadsPerDevice(1)));
        }
    }

    @AfterAll
    static void closeEngines() {
        ENGINES.values().forEach(Engine::close);
    }

    static Schedule schedule(SchedulePolicy policy, int version, int encodeBatch, int decodeIterations) {
        return Schedule.newBuilder().setScheduleId("test-" + policy).setVersion(version).setPolicy(policy)
                .setEncodeBatchSize(encodeBatch).setDecodeBatchSize(encodeBatch * 4)
                .setDecodeIterationsPerEncode(decodeIterations).build();
    }

    static ValidRequest request(int i, int maxNew, long arrivedEpochMs) {
        int[] prompt = new int[3 + i % 7];
        for (int t = 0; t < prompt.length; t++) {
            prompt[t] = 100 + 37 * i + t;
        }
        InferenceRequest r = InferenceRequest.newBuilder().setRequestId("q" + i).setTask("S").setPromptText("")
                .setMaxNewTokens(maxNew).setIgnoreEos(true).build();
        return new ValidRequest(r, prompt, arrivedEpochMs, 60_000, 0);
    }

    private static List<InferenceResult> runAll(ExecutorRunner runner, List<ValidRequest> requests) throws InterruptedException {
        List<InferenceResult> results = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(requests.size());
        for (ValidRequest r : requests) {
            runner.submit(r, result -> {
                results.add(result);
                done.countDown();
            });
        }
        assertTrue(done.await(120, TimeUnit.SECONDS), "every request must be answered");
        return results;
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void rraShouldAnswerEveryRequestWithTheTokensItWouldGetAlone(Architecture arch) throws Exception {
        Engine engine = ENGINES.get(arch);
        long now = System.currentTimeMillis();
        List<ValidRequest> requests = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            requests.add(request(i, 1 + (i * 5) % 9, now));
        }
        List<InferenceResult> results;
        try (ExecutorRunner runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()),
                schedule(SchedulePolicy.RRA, 1, 4, 3), "rra-0", 1)) {
            results = runAll(runner, requests);
            assertEquals(0, runner.numWaiting(), "nothing waits once every request is answered");
            assertEquals(0, runner.numInFlight());
        }
        assertEquals(12, results.size());
        for (InferenceResult result : results) {
            ValidRequest r = requests.get(Integer.parseInt(result.getRequestId().substring(1)));
            EncodeResult alone = engine.generate(List.of(new GenerationRequest(r.requestId(), r.promptTokenIds(),
                    r.request().getMaxNewTokens(), true)));
            int[] expected = alone.admitted().get(0).generatedTokens();
            assertArrayEquals(expected, result.getOutputTokenIds().stream().mapToInt(Integer::intValue).toArray(),
                    "batching must not change " + r.requestId() + "'s tokens");
            assertEquals(FinishReason.MAX_TOKENS, result.getFinishReason());
            RequestLatency l = result.getLatency();
            assertEquals(l.getEndToEndMs(), l.getQueueMs() + l.getEncodeMs() + l.getDecodeMs(), 1e-6);
            assertTrue(l.getTtftMs() <= l.getEndToEndMs() && l.getQueueMs() >= 0 && l.getEncodeMs() > 0);
            assertTrue(result.getEncodeBatchSize() >= 1 && result.getEncodeBatchSize() <= 4, "B_E caps the encode batch");
            assertEquals("rra-0", result.getExecutorId());
        }
        assertEquals(0, engine.numSequences(), "every sequence's state is released");
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void waaShouldEncodeInOneGroupAndDecodeInAnotherWithTheSameTokens(Architecture arch) throws Exception {
        Path dir = Path.of("target", "models", "runner-" + arch.name().toLowerCase());
        Engine encoderEngine = ENGINES.get(arch);
        long now = System.currentTimeMillis();
        List<ValidRequest> requests = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            requests.add(request(i, 1 + (i * 3) % 7, now));
        }
        Schedule waa = Schedule.newBuilder().setScheduleId("waa").setVersion(1).setPolicy(SchedulePolicy.WAA_C)
                .setEncodeBatchSize(3).setDecodeBatchSize(6).setTask("S").build();
        List<InferenceResult> results = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(requests.size());
        try (Engine decoderEngine = Engine.load(dir, EngineConfig.DEFAULTS.withThreadsPerDevice(1));
             ExecutorRunner decoder = new ExecutorRunner(decoderEngine, new BpeTokenizer(decoderEngine.modelConfig()), waa,
                     Role.DECODER, "waa-dec-0", 1);
             ExecutorRunner encoder = new ExecutorRunner(encoderEngine, new BpeTokenizer(encoderEngine.modelConfig()), waa,
                     Role.ENCODER, "waa-enc-0", 1)) {
            java.util.function.Consumer<InferenceResult> collect = r -> {
                results.add(r);
                done.countDown();
            };
            for (ValidRequest r : requests) {
                encoder.submit(r, collect, handover -> decoder.submit(handover, collect));
            }
            assertTrue(done.await(120, TimeUnit.SECONDS), "every request must be answered");
            assertEquals(0, encoderEngine.numSequences(), "the encoder group keeps no state after the hand-over");
            assertEquals(0, decoderEngine.numSequences());
        }
        for (InferenceResult result : results) {
            ValidRequest r = requests.get(Integer.parseInt(result.getRequestId().substring(1)));
            int[] expected = encoderEngine.generate(List.of(new GenerationRequest(r.requestId(), r.promptTokenIds(),
                    r.request().getMaxNewTokens(), true))).admitted().get(0).generatedTokens();
            assertArrayEquals(expected, result.getOutputTokenIds().stream().mapToInt(Integer::intValue).toArray(), r.requestId());
            RequestLatency l = result.getLatency();
            assertEquals(l.getEndToEndMs(), l.getQueueMs() + l.getEncodeMs() + l.getDecodeMs(), 1e-6);
        }
        assertEquals(10, results.stream().map(InferenceResult::getRequestId).distinct().count());
    }

    @Test
    void aScheduleTheEncoderAdoptsShouldReachTheDecoderWithItsHandOvers() throws Exception {
        Path dir = Path.of("target", "models", "runner-t5");
        Engine encoderEngine = ENGINES.get(Architecture.T5);
        Schedule v1 = Schedule.newBuilder().setScheduleId("waa").setVersion(1).setPolicy(SchedulePolicy.WAA_C)
                .setEncodeBatchSize(2).setDecodeBatchSize(4).setTask("S").build();
        Schedule v2 = Schedule.newBuilder(v1).setVersion(2).setEncodeBatchSize(3).build();
        long now = System.currentTimeMillis();
        List<InferenceResult> results = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(6);
        try (Engine decoderEngine = Engine.load(dir, EngineConfig.DEFAULTS.withThreadsPerDevice(1));
             ExecutorRunner decoder = new ExecutorRunner(decoderEngine, new BpeTokenizer(decoderEngine.modelConfig()), v1,
                     Role.DECODER, "waa-dec-0", 1);
             ExecutorRunner encoder = new ExecutorRunner(encoderEngine, new BpeTokenizer(encoderEngine.modelConfig()), v1,
                     Role.ENCODER, "waa-enc-0", 1)) {
            java.util.function.Consumer<InferenceResult> collect = r -> {
                results.add(r);
                done.countDown();
            };
            encoder.adopt(v2);
            for (int i = 0; i < 6; i++) {
                encoder.submit(request(i, 4, now), collect, handover -> {
                    decoder.adopt(handover.schedule());          // as WaaDecoderFunction does with each hand-over
                    decoder.submit(handover, collect);
                });
            }
            assertTrue(done.await(120, TimeUnit.SECONDS), "every request must be answered");
            assertEquals(2, decoder.schedule().getVersion(), "the decoder side runs the schedule the encoder side adopted");
        }
        assertEquals(6, results.size());
        for (InferenceResult r : results) {
            assertEquals(2, r.getScheduleVersion(), r.getRequestId() + " names the schedule it ran under");
            assertTrue(r.getExecutorId().equals("waa-dec-0"), r.getExecutorId());
        }
    }

    /** Nine requests of 3-9 prompt tokens and 1-9 new tokens, arrived now (the vLLM tests' workload). */
    private static List<ValidRequest> nineRequests() {
        long now = System.currentTimeMillis();
        List<ValidRequest> requests = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            requests.add(request(i, 1 + (i * 5) % 9, now));
        }
        return requests;
    }

    /** The result's tokens are those its request gets run alone on the engine. */
    private static void assertTheTokensItGetsAlone(Engine engine, List<ValidRequest> requests, InferenceResult result) {
        ValidRequest r = requests.get(Integer.parseInt(result.getRequestId().substring(1)));
        int[] expected = engine.generate(List.of(new GenerationRequest(r.requestId(), r.promptTokenIds(),
                r.request().getMaxNewTokens(), true))).admitted().get(0).generatedTokens();
        assertArrayEquals(expected, result.getOutputTokenIds().stream().mapToInt(Integer::intValue).toArray(),
                result.getRequestId());
    }

    /**
     * vLLM V0 runs on the real engine, T5 and OPT: prompt-only steps within the budget (6 prompt tokens here: one or
     * two prompts a step) and the cap (3 running), with the tokens each request would get alone.
     */
    @ParameterizedTest
    @EnumSource(Architecture.class)
    void vllmV0ShouldRunOnTheEngineWithinItsBudgetAndCap(Architecture arch) throws Exception {
        Engine engine = ENGINES.get(arch);
        List<ValidRequest> requests = nineRequests();
        Schedule v0 = Schedule.newBuilder(schedule(SchedulePolicy.VLLM_V0, 1, 3, 0)).setMaxNumSeqs(3).setMaxNumBatchedTokens(8).build();
        List<InferenceResult> results;
        try (ExecutorRunner runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()), v0, "vllm-v0-0", 1)) {
            results = runAll(runner, requests);
        }
        assertEquals(9, results.size());
        for (InferenceResult result : results) {
            assertTheTokensItGetsAlone(engine, requests, result);
            // Prompts are 3-9 tokens: a second one joins a step only while the two stay within 8 tokens.
            assertTrue(result.getEncodeBatchSize() >= 1 && result.getEncodeBatchSize() <= 2, "budget caps the prompt step");
            assertTrue(result.getMeanDecodeBatchSize() <= 3.0 + 1e-9, "max_num_seqs caps the running batch");
        }
        assertEquals(0, engine.numSequences());
    }

    /**
     * vLLM V1 runs on the real engine for the decoder-only families: with a budget of 5 tokens a step and 3 running
     * sequences, the decode tokens take their share first and the 3-9-token prompts are prefilled in chunks beside them,
     * over several steps; every request gets the tokens it would get alone, and the engine holds nothing after.
     */
    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"OPT", "LLAMA"})
    void vllmV1ShouldPrefillInChunksOnTheEngineBesideTheDecodes(Architecture arch) throws Exception {
        Engine engine = ENGINES.get(arch);
        List<ValidRequest> requests = nineRequests();
        Schedule v1 = Schedule.newBuilder(schedule(SchedulePolicy.VLLM_V1, 1, 3, 0)).setMaxNumSeqs(3).setMaxNumBatchedTokens(5).build();
        List<EngineStep> steps = java.util.Collections.synchronizedList(new ArrayList<>());
        List<InferenceResult> results;
        try (ExecutorRunner runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()), v1, "vllm-v1-0", 1)) {
            runner.observeSteps(steps::add);
            results = runAll(runner, requests);
        }
        assertEquals(9, results.size());
        for (InferenceResult result : results) {
            assertTheTokensItGetsAlone(engine, requests, result);
            assertTrue(result.getMeanDecodeBatchSize() <= 3.0 + 1e-9, "max_num_seqs caps the running batch");
        }
        List<EngineStep> prompts = steps.stream().filter(s -> s.kind() == EngineStep.Kind.ENCODE).toList();
        assertTrue(prompts.stream().allMatch(s -> s.numContextTokens() <= 5), "no step's prompt chunks exceed the budget");
        int promptTokens = requests.stream().mapToInt(ValidRequest::numInputTokens).sum();
        assertEquals(promptTokens, prompts.stream().mapToLong(EngineStep::numContextTokens).sum(),
                "every prompt token prefilled once, in chunks");
        assertTrue(prompts.size() > 9, "prompts longer than the budget took more than one step: " + prompts.size());
        assertEquals(0, engine.numSequences());
    }

    @Test
    void vllmV1ShouldBeRefusedByAnEncoderDecoderEngineInOneLine() {
        Engine engine = ENGINES.get(Architecture.T5);
        Schedule v1 = Schedule.newBuilder(schedule(SchedulePolicy.VLLM_V1, 1, 3, 0)).setMaxNumSeqs(3).setMaxNumBatchedTokens(64).build();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()), v1, "vllm-v1-0", 1));
        assertTrue(e.getMessage().contains("encoder-decoder") && e.getMessage().contains("VLLM_V0"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), "one line");
    }

    @Test
    void staticBatchingShouldReturnABatchTogether() throws Exception {
        Engine engine = ENGINES.get(Architecture.OPT);
        long now = System.currentTimeMillis();
        List<ValidRequest> requests = List.of(request(0, 2, now), request(1, 9, now), request(2, 5, now));
        List<InferenceResult> results;
        try (ExecutorRunner runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()),
                schedule(SchedulePolicy.STATIC, 1, 3, 0), "static-0", 1)) {
            results = runAll(runner, requests);
        }
        // The requests are submitted one by one to a running runner, which starts a batch of what it has when idle: on a
        // busy machine (a full verify) it once took the first alone. So each batch, however they were split, leaves at
        // once: as many distinct end times as batches (a result of a batch of k counts 1/k).
        long distinctEnds = results.stream().map(r -> r.getLatency().getEndToEndMs()).distinct().count();
        double batches = results.stream().mapToDouble(r -> 1.0 / r.getEncodeBatchSize()).sum();
        assertEquals(Math.round(batches), distinctEnds, "without early termination each batch leaves at once: " + results.stream()
                .map(r -> r.getEncodeBatchSize() + "@" + r.getLatency().getEndToEndMs()).toList());
        assertTrue(Math.abs(batches - Math.round(batches)) < 1e-9, "whole batches");
        assertEquals(List.of(2, 5, 9), results.stream().map(InferenceResult::getNumOutputTokens).sorted().toList());
    }

    @Test
    void theStepObserverShouldSeeEveryEngineStepWithItsBatchAndContext() throws Exception {
        Engine engine = ENGINES.get(Architecture.OPT);
        long now = System.currentTimeMillis();
        List<ValidRequest> requests = List.of(request(0, 2, now), request(1, 4, now), request(2, 3, now));
        List<EngineStep> steps = java.util.Collections.synchronizedList(new ArrayList<>());
        try (ExecutorRunner runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()),
                schedule(SchedulePolicy.STATIC, 1, 3, 0), "static-0", 1)) {
            runner.observeSteps(steps::add);
            runAll(runner, requests);
        }
        // Prompts of 3, 4 and 5 tokens for 2, 4 and 3 new tokens; how they are grouped depends on when the engine thread
        // sees them. The OPT prefill yields each request's first token, so the decode iterations yield the other
        // 1 + 3 + 2 tokens, one per sequence in the batch; a decode's context is its prompts plus what each generated.
        List<Integer> encoded = new ArrayList<>();
        int decodeRows = 0;
        for (EngineStep s : steps) {
            int prompts = java.util.Arrays.stream(s.inputTokens()).sum();
            if (s.kind() == EngineStep.Kind.ENCODE) {
                for (int len : s.inputTokens()) encoded.add(len);
                assertEquals(prompts, s.numContextTokens(), "an encode's context is its prompts");
            } else {
                decodeRows += s.batchSize();
                long generated = s.numContextTokens() - prompts;
                assertTrue(generated >= s.batchSize() && generated <= 3L * s.batchSize(), "each has generated 1-3 tokens: " + generated);
            }
        }
        assertEquals(List.of(3, 4, 5), encoded.stream().sorted().toList(), "every prompt encoded once");
        assertEquals(6, decodeRows, "one decode row per token after the first");
        assertEquals(EngineStep.Kind.ENCODE, steps.get(0).kind());
        for (int i = 1; i < steps.size(); i++) {
            assertTrue(steps.get(i).startEpochMs() >= steps.get(i - 1).endEpochMs(), "steps run one after another");
            assertTrue(steps.get(i).durationMs() > 0);
        }
    }

    @Test
    void aNewerScheduleShouldBeAdoptedWithoutLosingARequest() throws Exception {
        Engine engine = ENGINES.get(Architecture.OPT);
        long now = System.currentTimeMillis();
        List<InferenceResult> results = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(40);
        try (ExecutorRunner runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()),
                schedule(SchedulePolicy.RRA, 1, 2, 2), "rra-0", 1)) {
            for (int i = 0; i < 40; i++) {
                if (i == 20) {
                    runner.adopt(schedule(SchedulePolicy.CONTINUOUS, 2, 4, 0));
                    runner.adopt(schedule(SchedulePolicy.STATIC, 1, 4, 0));   // older: ignored
                }
                runner.submit(request(i, 6, now), r -> {
                    results.add(r);
                    done.countDown();
                });
            }
            assertTrue(done.await(120, TimeUnit.SECONDS));
            assertEquals(2, runner.schedule().getVersion());
        }
        assertEquals(40, results.stream().map(InferenceResult::getRequestId).distinct().count(), "none lost, none twice");
        assertTrue(results.stream().anyMatch(r -> r.getScheduleVersion() == 2), "later results name the new schedule");
    }

    @Test
    void refusedAndLateRequestsShouldBeAnsweredWithTheReason() throws Exception {
        Engine engine = ENGINES.get(Architecture.OPT);
        long now = System.currentTimeMillis();
        ValidRequest tooLong = request(1, 1_000, now);                // the tiny model has 128 positions
        InferenceRequest late = InferenceRequest.newBuilder(request(2, 4, now).request()).setDeadlineEpochMs(now - 1).build();
        ValidRequest lateRequest = new ValidRequest(late, new int[] {5, 6}, now - 10, 60_000, 0);
        List<InferenceResult> results;
        try (ExecutorRunner runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()),
                schedule(SchedulePolicy.RRA, 1, 4, 2), "rra-0", 1)) {
            results = runAll(runner, List.of(tooLong, lateRequest, request(3, 4, now)));
        }
        Map<String, InferenceResult> byId = new java.util.HashMap<>();
        results.forEach(r -> byId.put(r.getRequestId(), r));
        assertEquals(FinishReason.ERROR, byId.get("q1").getFinishReason());
        assertTrue(byId.get("q1").getErrorMessage().contains("q1"), byId.get("q1").getErrorMessage());
        assertEquals(FinishReason.DEADLINE, byId.get("q2").getFinishReason());
        assertEquals(Boolean.FALSE, byId.get("q2").getSloMet());
        assertEquals(4, byId.get("q3").getNumOutputTokens(), "the rest of the batch goes on");
    }

    @Test
    void admissionControlShouldAnswerARequestThatCannotMeetItsSloBeforeRunningIt() throws Exception {
        Engine engine = ENGINES.get(Architecture.OPT);
        long now = System.currentTimeMillis();
        ValidRequest first = request(0, 4, now);                                    // measures the steps
        ValidRequest hopeless = new ValidRequest(request(1, 8, now).request(), new int[] {5, 6, 7}, now - 10_000, 2_000, 0);
        for (Admission.Mode mode : Admission.Mode.values()) {
            List<InferenceResult> results = new ArrayList<>();
            try (ExecutorRunner runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()),
                    schedule(SchedulePolicy.RRA, 1, 1, 2), Role.FULL, "rra-0", 1, mode)) {
                results.addAll(runAll(runner, List.of(first)));
                results.addAll(runAll(runner, List.of(hopeless)));
                assertEquals(mode == Admission.Mode.OFF ? 0 : 1, runner.numRefusedByAdmission());
            }
            InferenceResult late = results.get(1);
            assertEquals(Boolean.FALSE, late.getSloMet(), "a missed SLO either way: " + mode);
            if (mode == Admission.Mode.OFF) {
                assertEquals(8, late.getNumOutputTokens(), "off: it runs, and misses");
                assertEquals(FinishReason.MAX_TOKENS, late.getFinishReason());
            } else {
                assertEquals(0, late.getNumOutputTokens(), "reject-late: no device time spent on it");
                assertEquals(FinishReason.DEADLINE, late.getFinishReason());
                assertTrue(late.getErrorMessage().startsWith("admission (reject-late): predicted finish"), late.getErrorMessage());
            }
            assertEquals(FinishReason.MAX_TOKENS, results.get(0).getFinishReason());
        }
    }

    @Test
    void aWaaDecoderShouldAnswerAHandOverThatCannotMeetItsSloWithoutTakingItOver() throws Exception {
        Path dir = Path.of("target", "models", "runner-t5");
        Engine encoderEngine = ENGINES.get(Architecture.T5);
        Schedule waa = Schedule.newBuilder().setScheduleId("waa").setVersion(1).setPolicy(SchedulePolicy.WAA_C)
                .setEncodeBatchSize(1).setDecodeBatchSize(4).setTask("S").build();
        long now = System.currentTimeMillis();
        ValidRequest first = request(0, 4, now);                                    // measures the decoder's iterations
        ValidRequest hopeless = new ValidRequest(request(1, 8, now).request(), new int[] {5, 6, 7}, now - 10_000, 2_000, 0);
        List<InferenceResult> results = java.util.Collections.synchronizedList(new ArrayList<>());
        try (Engine decoderEngine = Engine.load(dir, EngineConfig.DEFAULTS.withThreadsPerDevice(1));
             ExecutorRunner decoder = new ExecutorRunner(decoderEngine, new BpeTokenizer(decoderEngine.modelConfig()), waa,
                     Role.DECODER, "waa-dec-0", 1, Admission.Mode.REJECT_LATE);
             ExecutorRunner encoder = new ExecutorRunner(encoderEngine, new BpeTokenizer(encoderEngine.modelConfig()), waa,
                     Role.ENCODER, "waa-enc-0", 1, Admission.Mode.OFF)) {
            for (ValidRequest r : List.of(first, hopeless)) {
                CountDownLatch done = new CountDownLatch(1);
                java.util.function.Consumer<InferenceResult> collect = result -> {
                    results.add(result);
                    done.countDown();
                };
                encoder.submit(r, collect, handover -> decoder.submit(handover, collect));
                assertTrue(done.await(60, TimeUnit.SECONDS), "every request must be answered");
            }
            assertEquals(0, encoder.numRefusedByAdmission(), "the encoder runs every request (admission off there)");
            assertEquals(1, decoder.numRefusedByAdmission());
            assertEquals(0, decoderEngine.numSequences(), "the refused hand-over's state was never taken over");
        }
        assertEquals(FinishReason.MAX_TOKENS, results.get(0).getFinishReason());
        InferenceResult late = results.get(1);
        assertEquals(FinishReason.DEADLINE, late.getFinishReason());
        assertEquals(0, late.getNumOutputTokens());
        assertTrue(late.getErrorMessage().startsWith("admission (reject-late): predicted finish"), late.getErrorMessage());
        assertEquals("waa-dec-0", late.getExecutorId(), "answered where the queue formed");
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void aRequestTheEngineFailsOnShouldGetAnErrorAndItsBatchMatesTheirTokens(Architecture arch) throws Exception {
        Engine engine = ENGINES.get(arch);
        long now = System.currentTimeMillis();
        List<ValidRequest> requests = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            requests.add(request(i, 3, now));
        }
        // A token id far past the vocabulary reaches the engine only when validation is bypassed; the engine refuses
        // that one request of the batch (and, had it thrown instead, the runner would encode the batch one at a time).
        InferenceRequest poison = InferenceRequest.newBuilder().setRequestId("poison").setTask("S").setPromptText("")
                .setMaxNewTokens(3).setIgnoreEos(true).build();
        requests.add(3, new ValidRequest(poison, new int[] {5, 1_000_000_000, 6}, now, 60_000, 0));
        List<InferenceResult> results;
        try (ExecutorRunner runner = new ExecutorRunner(engine, new BpeTokenizer(engine.modelConfig()),
                schedule(SchedulePolicy.RRA, 1, 4, 2), "rra-0", 1)) {
            results = runAll(runner, requests);
            assertEquals(null, runner.failure(), "the engine thread lives on");
            List<InferenceResult> after = runAll(runner, List.of(request(20, 2, now)));
            assertEquals(FinishReason.MAX_TOKENS, after.get(0).getFinishReason(), "and serves the next request");
        }
        assertEquals(9, results.size(), "every request answered once");
        for (InferenceResult r : results) {
            if (r.getRequestId().equals("poison")) {
                assertEquals(FinishReason.ERROR, r.getFinishReason());
                assertTrue(r.getErrorMessage().contains("outside the vocabulary"), r.getErrorMessage());
            } else {
                assertEquals(FinishReason.MAX_TOKENS, r.getFinishReason(), r.getRequestId() + ": " + r.getErrorMessage());
                assertEquals(3, r.getNumOutputTokens());
            }
        }
        assertEquals(0, engine.numSequences(), "every sequence's state is released");
    }
}
