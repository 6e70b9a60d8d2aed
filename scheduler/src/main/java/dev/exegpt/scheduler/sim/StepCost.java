package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.Phase;

/**
 * What one step of an executor that encodes and decodes on the same pipeline costs, by the cost model: the event
 * simulator charges its steps this way, and a clocked engine in tests charges the executor's engine calls this way,
 * so that the two drivers can be compared step by step.
 */
public final class StepCost {

    private final Pipeline pipeline;

    public StepCost(Pipeline pipeline) {
        this.pipeline = pipeline;
    }

    public int numStages() {
        return pipeline.stages().size();
    }

    /**
     * An encode step of a batch with these prompt lengths, in one micro-batch per stage: the average over the batch's
     * own lengths of the makespan at each (the cost is convex in the length, so the cost at the mean would be low).
     */
    public double encodeMs(int[] promptLengths) {
        int b = promptLengths.length;
        int stages = numStages();
        double sum = 0;
        for (int len : promptLengths) sum += pipeline.makespanMs(Phase.ENCODE, b, Math.max(1, len), stages);
        return sum / Math.max(1, b);
    }

    /** One encode batch's pass through an encoder pipeline: when its last micro-batch leaves the last stage. */
    public double encodePassMs(int[] promptLengths) {
        int b = promptLengths.length;
        double sum = 0;
        for (int len : promptLengths) sum += pipeline.passMs(Phase.ENCODE, b, Math.max(1, len));
        return sum / Math.max(1, b);
    }

    /** How long an encoder pipeline is busy with one batch before it takes the next: its slowest stage. */
    public double encodeBottleneckMs(int[] promptLengths) {
        int b = promptLengths.length;
        double sum = 0;
        for (int len : promptLengths) sum += pipeline.bottleneckMs(Phase.ENCODE, b, Math.max(1, len));
        return sum / Math.max(1, b);
    }

    /** Moving an encoded batch's state (the decoder's KV for the prompts) to the decoder group (PAPER.md §5.2). */
    public double handoverTransferMs(int[] promptLengths) {
        ModelSpec m = pipeline.cost().model();
        long sum = 0;
        for (int len : promptLengths) sum += len;
        int meanInput = (int) Math.max(1, sum / Math.max(1, promptLengths.length));
        long kv = (long) promptLengths.length * meanInput * m.numDecoderLayers() * m.kvBytesPerTokenPerLayer();
        return pipeline.cost().stateTransferMs(kv);
    }

    /** The micro-batch of a decode iteration of n sequences: one per stage. */
    public int decodeMicroBatch(int n) {
        return Math.max(1, (n + numStages() - 1) / numStages());
    }

    /** One decode iteration of {@code n} sequences attending to {@code meanContextTokens} on average. */
    public double decodeMs(int n, int meanContextTokens, int microBatch) {
        return pipeline.decodeIterationMs(n, meanContextTokens, microBatch);
    }

    /**
     * A decode iteration that admits the prefills of {@code admittedLengths} (iteration-level batching): each
     * micro-batch carries its share of the prefills through the pipeline. On one stage this is the decode iteration
     * plus the prefills one by one.
     */
    public double decodeWithPrefillsMs(int n, int meanContextTokens, int microBatch, int[] admittedLengths) {
        if (admittedLengths.length == 0) return decodeMs(n, meanContextTokens, microBatch);
        double pass = 0, bottleneck = 0;
        for (int len : admittedLengths) {
            pass += pipeline.passMs(Phase.ENCODE, 1, Math.max(1, len));
            bottleneck += pipeline.bottleneckMs(Phase.ENCODE, 1, Math.max(1, len));
        }
        pass /= admittedLengths.length;
        bottleneck /= admittedLengths.length;
        int m = (n + microBatch - 1) / microBatch;
        return Math.max(pipeline.passMs(Phase.DECODE, microBatch, meanContextTokens) + pass,
                m * (pipeline.bottleneckMs(Phase.DECODE, microBatch, meanContextTokens) + bottleneck));
    }

    /**
     * A vLLM V1 step (chunked prefill): {@code n} decode tokens over {@code meanContextTokens} on average, then prompt
     * chunks, chunk i computing {@code chunkTokens[i]} prompt tokens after the {@code chunkComputedTokens[i]} its
     * earlier chunks computed. The approximation: the decode iteration (which streams the weights once) plus each
     * chunk's marginal prefill cost ({@link #marginalPrefillMs}); a step without decode tokens pays a one-token
     * prefill for the weights instead. Exact where the cost is linear in the tokens (the matmuls) and for causal
     * attention (the chunk's tokens attend to everything before them); on a weight-bound roofline a small chunk costs
     * little more than its share of the compute, which is what fusing it into the decode pass gives. On a pipeline of
     * several stages the chunks are charged once through every stage, not overlapped.
     */
    public double mixedStepMs(int n, int meanContextTokens, int microBatch, int[] chunkComputedTokens, int[] chunkTokens) {
        double ms = n > 0 ? decodeMs(n, meanContextTokens, microBatch) : pipeline.passMs(Phase.ENCODE, 1, 1);
        for (int i = 0; i < chunkTokens.length; i++) {
            ms += marginalPrefillMs(pipeline, chunkComputedTokens[i], chunkTokens[i]);
        }
        return ms;
    }

    /**
     * What prefilling {@code numTokens} more prompt tokens after {@code numComputedTokens} adds to a step:
     * prefill(c + k) - prefill(max(1, c)) for one sequence through the pipeline. Over all the chunks of a prompt of
     * L tokens it adds up to prefill(L) - prefill(1), however the prompt is chunked.
     */
    static double marginalPrefillMs(Pipeline p, int numComputedTokens, int numTokens) {
        double after = p.passMs(Phase.ENCODE, 1, numComputedTokens + numTokens);
        double before = p.passMs(Phase.ENCODE, 1, Math.max(1, numComputedTokens));
        return Math.max(0, after - before);
    }
}
