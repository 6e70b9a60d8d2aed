package dev.exegpt.runtime.bench;

import dev.exegpt.runtime.engine.Engine;
import dev.exegpt.runtime.engine.EngineConfig;
import dev.exegpt.runtime.engine.GenerationRequest;
import dev.exegpt.runtime.engine.Sequence;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.Weights;
import dev.exegpt.runtime.weights.DType;
import dev.exegpt.runtime.weights.RandomWeights;
import dev.exegpt.runtime.weights.Tensor;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * Decode throughput of a model on one device that uses every core: for each batch size, prefill batch prompts of
 * contextTokens tokens, two warm-up iterations (after a warm-up of the whole engine at batch 8 and at batch 1), then the median of timed
 * decode iterations (the best one is printed too: on a shared machine it shows what the step costs undisturbed). Reports tokens/s and
 * the FLOP/s and weight-streaming rate that implies (in the bytes of the weights' own type), and what the timed steps
 * allocated on the Java heap (every thread) and spent in garbage collection. A yardstick (the memory triad) may be
 * sampled between the timed steps, outside their time, so that a step and what it is held against see the same machine.
 */
public final class DecodeBench {
    private DecodeBench() {}

    /** One batch size's result. */
    public record Result(int batchSize, double msPerStep, double bestMsPerStep, double tokensPerSecond,
                         double gflopsPerSecond, double weightGbPerSecond, long allocatedBytesPerStep, long gcCount,
                         long gcMs, double[] yardstickSamples) {
        /** The median of the yardstick's samples around this batch's steps (NaN without a yardstick). */
        public double yardstickMedian() {
            if (yardstickSamples.length == 0) return Double.NaN;
            double[] s = yardstickSamples.clone();
            Arrays.sort(s);
            return s[s.length / 2];
        }
    }

    /** Timed steps between two samples of a yardstick. */
    public static final int STEPS_PER_YARDSTICK_SAMPLE = 5;

    /** Parameters read once per decode iteration: the decoder layers and the LM head (embeddings are gathered). */
    public static long decodeWeightsPerStep(ModelConfig c) {
        long d = c.dModel();
        long inner = c.innerDim();
        long ffn = c.ffnDim();
        long kv = c.kvDim();
        boolean gated = c.family().gatedFeedForward(c);
        long layer = 2 * d * inner + 2 * d * kv + (gated ? 3 : 2) * d * ffn              // self q,o; k,v; ffn
                + (c.encoderDecoder() ? 2 * d * inner : 0);                              // T5 cross q,o
        return layer * c.numDecoderLayers() + (long) c.vocabSize() * d;
    }

    /** Decode steps of the batch-1 warm-up: enough calls of a kernel that runs once a step for C2 to compile it. */
    static final int WARM_UP_STEPS_BATCH_1 = 400;

    /**
     * A second of decoding at batch 8, then at batch 1 a second and at least {@link #WARM_UP_STEPS_BATCH_1} steps, so
     * that the JIT has compiled every path before anything is timed: the batch-1 kernels (registers only, no row
     * tiles) are other code than batch 8's, and a warm-up at batch 8 alone left them to be compiled inside the timed
     * batch-1 steps. A path that runs once a step (the LM head's last, odd panel) was still interpreted after a
     * second of opt-base (80 steps): its boxed vectors allocated 290-377 KB a timed step.
     */
    private static void warmUp(Engine engine, int contextTokens, int maxPositions, SplittableRandom rnd) {
        for (int batch : new int[] {8, 1}) {
            int minSteps = batch == 1 ? WARM_UP_STEPS_BATCH_1 : 0;
            int maxNew = Math.min(256, maxPositions - contextTokens - 1);
            long t0 = System.nanoTime();
            int steps = 0;
            for (int round = 0; steps < minSteps || System.nanoTime() - t0 < 1_000_000_000L; round++) {
                List<GenerationRequest> requests = new ArrayList<>();
                for (int i = 0; i < batch; i++) {
                    int[] prompt = new int[contextTokens];
                    for (int j = 0; j < prompt.length; j++) prompt[j] = rnd.nextInt(50257);
                    requests.add(new GenerationRequest("warm-up-" + batch + "-" + round + "-" + i, prompt, maxNew, true));
                }
                List<Sequence> active = engine.encode(requests).admitted();
                for (int step = 1; step < maxNew && (steps < minSteps || System.nanoTime() - t0 < 1_000_000_000L); step++) {
                    engine.decode(active);
                    steps++;
                }
                for (Sequence s : active) engine.release(s);
                if (System.nanoTime() - t0 > 20_000_000_000L) break;    // a very slow machine: time it as it is
            }
        }
    }

    /** Runs the benchmark; prints one line per batch size to log. */
    public static List<Result> run(ModelConfig c, String name, long seed, int[] batchSizes, int contextTokens,
                                   int steps, PrintStream log) {
        return run(c, name, seed, batchSizes, contextTokens, steps, EngineConfig.DEFAULTS, log);
    }

    /** As {@link #run(ModelConfig, String, long, int[], int, int, PrintStream)} on an engine of the given config. */
    public static List<Result> run(ModelConfig c, String name, long seed, int[] batchSizes, int contextTokens,
                                   int steps, EngineConfig engineConfig, PrintStream log) {
        return run(c, name, seed, batchSizes, contextTokens, steps, engineConfig, DType.F32, log);
    }

    /** As above with the weights rounded to dtype and kept so, as a checkpoint saved in that type loads. */
    public static List<Result> run(ModelConfig c, String name, long seed, int[] batchSizes, int contextTokens,
                                   int steps, EngineConfig engineConfig, DType dtype, PrintStream log) {
        return run(c, name, seed, batchSizes, contextTokens, steps, engineConfig, dtype, null, log);
    }

    /**
     * As above, and when yardstick is not null it is sampled before the first timed step, after every
     * {@link #STEPS_PER_YARDSTICK_SAMPLE} and after the last ({@link Result#yardstickSamples}); each sample but the
     * last is followed by an untimed step, so that no timed step starts on caches and kernel threads the probe
     * disturbed.
     */
    public static List<Result> run(ModelConfig c, String name, long seed, int[] batchSizes, int contextTokens,
                                   int steps, EngineConfig engineConfig, DType dtype, DoubleSupplier yardstick,
                                   PrintStream log) {
        return runSideBySide(c, name, seed, batchSizes, contextTokens, steps, engineConfig, List.of(dtype), yardstick,
                log).get(dtype);
    }

    /** Steps of the window that measures a step's heap use, after the timed steps and with no probe in it. */
    static final int HEAP_WINDOW_STEPS = 32;

    /**
     * The same model with its weights in each of dtypes, decoded side by side: one engine per type, all loaded at
     * once, their timed steps taken in turns of {@link #STEPS_PER_YARDSTICK_SAMPLE} (the order of the types reversed
     * every other turn), so that a ratio between two types compares steps taken on the same machine within seconds
     * of each other. Here the memory system's rate moved 28-57 GB/s between the f32 and the bf16 runs of one model
     * when each ran its steps apart, and the bf16 / f32 ratio moved 1.24-2.41x with it. The yardstick (when not null)
     * is sampled before each turn and after the last; each engine's first step of a turn is untimed, so that no
     * timed step starts on caches another engine or the probe filled. Each batch's heap use per step is measured
     * afterwards on a window of {@link #HEAP_WINDOW_STEPS} steps per engine with nothing else in it (the counters'
     * own reading subtracted); its collections are the whole batch's, every engine's steps and the probe's alike.
     */
    public static Map<DType, List<Result>> runSideBySide(ModelConfig c, String name, long seed, int[] batchSizes,
                                                         int contextTokens, int steps, EngineConfig engineConfig,
                                                         List<DType> dtypes, DoubleSupplier yardstick, PrintStream log) {
        if (dtypes.isEmpty() || dtypes.stream().distinct().count() != dtypes.size()) {
            throw new IllegalArgumentException("dtypes " + dtypes + ": expected one or more distinct types");
        }
        int numTurns = (steps + STEPS_PER_YARDSTICK_SAMPLE - 1) / STEPS_PER_YARDSTICK_SAMPLE;
        boolean untimedFirst = yardstick != null || dtypes.size() > 1;
        int untimed = 2 + (untimedFirst ? numTurns : 0) + HEAP_WINDOW_STEPS;
        if (contextTokens + steps + untimed + 2 > c.maxPositions()) {
            throw new IllegalArgumentException(contextTokens + " prompt tokens, " + steps + " timed steps and " + untimed
                    + " untimed ones (+2) do not fit " + name + "'s " + c.maxPositions()
                    + " positions: use fewer steps or a shorter context");
        }
        long params = decodeWeightsPerStep(c);
        Map<DType, Engine> engines = new LinkedHashMap<>();
        Map<DType, List<Result>> results = new LinkedHashMap<>();
        try {
            for (DType dtype : dtypes) {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                for (Tensor t : RandomWeights.generate(c, seed)) tensors.put(t.name(), t.narrowedTo(dtype));
                Engine engine = new Engine(c, new Weights(name, tensors), engineConfig);
                engines.put(dtype, engine);
                tensors.clear();
                warmUp(engine, contextTokens, c.maxPositions(), new SplittableRandom(seed));
                results.put(dtype, new ArrayList<>());
            }
            for (int batch : batchSizes) {
                SplittableRandom rnd = new SplittableRandom(seed + batch);
                Map<DType, List<Sequence>> active = new LinkedHashMap<>();
                Map<DType, double[]> ms = new LinkedHashMap<>();
                for (DType dtype : dtypes) {
                    List<GenerationRequest> requests = new ArrayList<>();
                    for (int i = 0; i < batch; i++) {
                        int[] prompt = new int[contextTokens];
                        for (int j = 0; j < prompt.length; j++) prompt[j] = rnd.nextInt(50257);
                        requests.add(new GenerationRequest("b" + batch + "-" + i, prompt, steps + untimed + 2, true));
                    }
                    Engine engine = engines.get(dtype);
                    List<Sequence> sequences = engine.encode(requests).admitted();
                    for (int w = 0; w < 2; w++) engine.decode(sequences);         // warm-up
                    active.put(dtype, sequences);
                    ms.put(dtype, new double[steps]);
                }
                double[] samples = new double[yardstick == null ? 0 : numTurns + 1];
                long[] gc0 = HeapUse.gc();
                for (int turn = 0; turn < numTurns; turn++) {
                    if (yardstick != null) samples[turn] = yardstick.getAsDouble();
                    int from = turn * STEPS_PER_YARDSTICK_SAMPLE;
                    int to = Math.min(steps, from + STEPS_PER_YARDSTICK_SAMPLE);
                    for (int k = 0; k < dtypes.size(); k++) {
                        DType dtype = dtypes.get(turn % 2 == 0 ? k : dtypes.size() - 1 - k);
                        Engine engine = engines.get(dtype);
                        List<Sequence> sequences = active.get(dtype);
                        if (untimedFirst) engine.decode(sequences);
                        double[] times = ms.get(dtype);
                        for (int s = from; s < to; s++) {
                            long t0 = System.nanoTime();
                            engine.decode(sequences);
                            times[s] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                }
                if (yardstick != null) samples[numTurns] = yardstick.getAsDouble();
                for (DType dtype : dtypes) {
                    Engine engine = engines.get(dtype);
                    List<Sequence> sequences = active.get(dtype);
                    long allocatedPerStep = heapPerStep(engine, sequences);
                    long[] gc1 = HeapUse.gc();
                    for (Sequence s : sequences) engine.release(s);
                    double[] times = ms.get(dtype);
                    Arrays.sort(times);
                    double median = times[steps / 2];
                    int context = contextTokens + steps / 2;
                    long attentionFlops = 4L * batch * context * c.innerDim() * c.numDecoderLayers()
                            * (c.encoderDecoder() ? 2 : 1);
                    double flops = 2.0 * params * batch + attentionFlops;
                    List<Result> own = results.get(dtype);
                    Result r = new Result(batch, median, times[0], batch / (median / 1e3), flops / (median * 1e6),
                            (double) dtype.numBytes() * params / (median * 1e6), allocatedPerStep, gc1[0] - gc0[0],
                            gc1[1] - gc0[1], samples);
                    own.add(r);
                    log.printf("  %-10s %-4s batch %3d: %7.1f ms/step (best %6.1f) %8.1f tokens/s (%5.2fx batch 1)  %6.1f GFLOP/s  weights %5.1f GB/s  heap %,d B/step, %d GC pauses (%d ms)%n",
                            name, dtype.name().toLowerCase(), batch, median, times[0], r.tokensPerSecond(),
                            r.tokensPerSecond() / own.get(0).tokensPerSecond(), r.gflopsPerSecond(),
                            r.weightGbPerSecond(), r.allocatedBytesPerStep(), r.gcCount(), r.gcMs());
                }
            }
        } finally {
            for (Engine engine : engines.values()) engine.close();
        }
        return results;
    }

    /**
     * Heap bytes one decode step allocates once warm, on every thread: {@link #HEAP_WINDOW_STEPS} steps between two
     * readings of the counters, less what one reading itself allocates (its arrays of thread ids and counts).
     */
    private static long heapPerStep(Engine engine, List<Sequence> sequences) {
        long before = HeapUse.allocatedBytes();
        long reading = HeapUse.allocatedBytes() - before;
        long start = HeapUse.allocatedBytes();
        for (int s = 0; s < HEAP_WINDOW_STEPS; s++) engine.decode(sequences);
        long end = HeapUse.allocatedBytes();
        if (before < 0) return -1;
        return Math.max(0, end - start - reading) / HEAP_WINDOW_STEPS;
    }
}
