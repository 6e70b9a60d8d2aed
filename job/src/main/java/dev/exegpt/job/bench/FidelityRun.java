package dev.exegpt.job.bench;

import dev.exegpt.scheduler.plan.Policy;

import dev.exegpt.scheduler.plan.Candidate;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.scheduler.cost.fit.MeasuredStep;
import dev.exegpt.operators.runner.ExecutorRunner;
import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.GenerationRequest;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.scheduler.workload.LengthSample;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * The measured half of {@code exegpt fidelity}: a bulk of requests through {@link ExecutorRunner} on a real engine,
 * summarised exactly as the event simulator summarises its run (throughput between the 10th and 90th percentile
 * completions, and over the whole run, arrival to last completion, as {@code SimResult.completionsPerSecond}; the
 * worst latency from encode start among requests within 2 tokens of the bound length that complete in the 10-90
 * window).
 */
public final class FidelityRun {

    /** One request's lengths, in the order the event simulator samples them. */
    public record Lengths(int numInputTokens, int numOutputTokens) {}

    /** One request as the event simulator draws it: arrival (ms from the start) and lengths. */
    public record Drawn(double arrivalMs, Lengths lengths) {}

    /**
     * One bulk run as measured. {@code steps}: every engine step the runner ran, in order, to compare step by step
     * with the cost model ({@link StepFit}); {@code spanMs}: first encode start to last completion.
     */
    public record Measured(double sequencesPerSecond, double boundLengthLatencyMs, double meanTpotMs, double meanDecodeBatch,
                    double meanEncodeMs, double wallMs, List<MeasuredStep> steps, double spanMs, double completionsPerSecond) {}

    private final Engine engine;
    private final BpeTokenizer tokenizer;
    private final PrintStream out;
    private int runNumber;

    public FidelityRun(Engine engine, PrintStream out) {
        this.engine = engine;
        this.tokenizer = new BpeTokenizer(engine.modelConfig());
        this.out = out;
    }

    /** The lengths EventSimulator.run(c, n, seed, bulk) samples: the same generator, the same order of draws. */
    public static List<Lengths> sampleLikeEventSimulator(Workload w, int n, long seed) {
        return drawLikeEventSimulator(w, n, seed, new ArrivalProcess.Bulk()).stream().map(Drawn::lengths).toList();
    }

    /** The arrivals and lengths EventSimulator.run(c, n, seed, arrivals) draws: the same generator, the same order of draws. */
    public static List<Drawn> drawLikeEventSimulator(Workload w, int n, long seed, ArrivalProcess arrivals) {
        RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        double[] at = arrivals.arrivalsMs(n, rng);
        List<Drawn> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            LengthSample s = w.sample(rng);
            out.add(new Drawn(at[i], new Lengths(s.numInputTokens(), s.numOutputTokens())));
        }
        return out;
    }

    /** Untimed generation ({@link Engine#warmUp}) so that the JIT has compiled encode and decode before anything is measured. */
    public void warmUp(long ms) {
        long t0 = System.nanoTime();
        int n = engine.warmUp(ms);
        out.printf("  warm-up: %d requests in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
    }

    public Measured measure(Schedule schedule, List<Lengths> lengths, int bound) throws InterruptedException {
        int n = lengths.size();
        List<InferenceResult> results = Collections.synchronizedList(new ArrayList<>(n));
        CountDownLatch done = new CountDownLatch(n);
        long t0 = System.nanoTime();
        String prefix = "fid" + (++runNumber) + "-";
        List<MeasuredStep> steps = new ArrayList<>();
        try (ExecutorRunner runner = new ExecutorRunner(engine, tokenizer, schedule, "fidelity", 1)) {
            runner.observeSteps(s -> steps.add(s.measured()));                   // the engine thread only; read after the latch
            long arrived = System.currentTimeMillis();
            for (int i = 0; i < n; i++) {
                Lengths l = lengths.get(i);
                int[] ids = prompt(l.numInputTokens(), i);
                InferenceRequest r = new InferenceRequest(prefix + i, schedule.getTask(), null, toList(ids),
                        Math.max(1, l.numOutputTokens()), true, null, null, arrived, Map.of());
                runner.submit(new ValidRequest(r, ids, arrived, 0, 0), res -> {
                    results.add(res);
                    done.countDown();
                });
            }
            if (!done.await(30, TimeUnit.MINUTES)) throw new IllegalStateException("requests still running after 30 minutes");
            if (runner.failure() != null) throw new IllegalStateException("executor failed", runner.failure());
        }
        double wallMs = (System.nanoTime() - t0) / 1e6;
        double[] finish = new double[n], start = new double[n];
        int[] outTokens = new int[n];
        double tpotSum = 0;
        int tpotCount = 0;
        double batchSum = 0, encodeSum = 0;
        for (int i = 0; i < n; i++) {
            InferenceResult r = results.get(i);
            if (r.getFinishReason() != FinishReason.MAX_TOKENS) {
                throw new IllegalStateException("request " + r.getRequestId() + " ended " + r.getFinishReason() + ": " + r.getErrorMessage());
            }
            finish[i] = r.getLatency().getEndToEndMs();
            start[i] = r.getLatency().getQueueMs();
            outTokens[i] = r.getNumOutputTokens();
            if (r.getNumOutputTokens() > 1) {        // as the event simulator's mean TPOT
                tpotSum += r.getLatency().getTpotMs();
                tpotCount++;
            }
            batchSum += r.getMeanDecodeBatchSize();
            encodeSum += r.getLatency().getEncodeMs() / Math.max(1, r.getEncodeBatchSize());   // each batch once
        }
        double[] sorted = finish.clone();
        Arrays.sort(sorted);
        double lo = sorted[(int) (n * 0.1)], hi = sorted[Math.min(n - 1, (int) (n * 0.9))];
        double seqPerSec = hi > lo ? (0.8 * n) * 1000 / (hi - lo) : n * 1000 / sorted[n - 1];
        double boundLatency = Double.NaN;
        for (int i = 0; i < n; i++) {
            if (Math.abs(outTokens[i] - bound) <= 2 && finish[i] >= lo && finish[i] <= hi) {
                double service = finish[i] - start[i];
                boundLatency = Double.isNaN(boundLatency) ? service : Math.max(boundLatency, service);
            }
        }
        double numBatches = results.stream().mapToDouble(r -> 1.0 / Math.max(1, r.getEncodeBatchSize())).sum();
        double spanMs = steps.isEmpty() ? 0 : steps.get(steps.size() - 1).endEpochMs() - steps.get(0).startEpochMs();
        return new Measured(seqPerSec, boundLatency, tpotCount == 0 ? 0 : tpotSum / tpotCount, batchSum / n, encodeSum / numBatches,
                wallMs, List.copyOf(steps), spanMs, n * 1000.0 / sorted[n - 1]);
    }

    /** A prompt of {@code length} token ids from the BPE range, seeded by the request's index. */
    /** A one-device schedule from its short form: rra:B_E:N_D, static:B or continuous. */
    public static Candidate candidate(String spec) {
        String[] p = spec.split(":");
        String expected = "schedule " + spec + ": expected rra:B_E:N_D, static:B or continuous";
        try {
            return switch (p[0]) {
                case "rra" -> Candidate.rra(1, Integer.parseInt(p[1]), Integer.parseInt(p[2]), 1, 0);
                case "static" -> new Candidate(Policy.STATIC, 1, Integer.parseInt(p[1]), 1, 0, 1, 0, 0);
                case "continuous" -> new Candidate(Policy.CONTINUOUS, 1, 1, 1, 0, 1, 0, 0);
                default -> throw new IllegalArgumentException(expected);
            };
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
            throw new IllegalArgumentException(expected);
        }
    }

    public static int[] prompt(int length, long index) {
        RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(1000 + index);
        int[] ids = new int[Math.max(1, length)];
        for (int i = 0; i < ids.length; i++) ids[i] = 3 + rng.nextInt(BpeTokenizer.BPE_VOCAB_SIZE - 3);
        return ids;
    }

    public static List<Integer> toList(int[] ids) {
        List<Integer> l = new ArrayList<>(ids.length);
        for (int id : ids) l.add(id);
        return l;
    }

    public static double median(double[] v) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
