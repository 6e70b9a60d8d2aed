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
     * A vLLM V1 step (chunked prefill): {@code n} decode tokens over {@code meanContextTokens} on average, and prompt
     * chunks, chunk i computing {@code chunkTokens[i]} prompt tokens after the {@code chunkComputedTokens[i]} its
     * earlier chunks computed. vLLM runs them as one forward pass over all the step's tokens, so the approximation is:
     * <ul>
     *   <li>the weights and the token-wise work (projections, FFN) of all T = n + sum(chunks) tokens as one prefill of
     *   T tokens cut into as many sequences as the step has chunks ({@link #tokenPassMs}), read once: weight-bound when
     *   T is small, compute-bound when it is large, as the roofline or the profile says; each sequence's own attention
     *   is inside it, as vLLM's attention kernel computes each request's rows against its own keys only;</li>
     *   <li>plus the decode tokens' attention over their contexts: the decode iteration at the mean context minus the
     *   same iteration at a one-token context, and their model head (one row each);</li>
     *   <li>plus each continuing chunk's attention to the prompt tokens before it ({@link #chunkContextMs}).</li>
     * </ul>
     * Priced as one sequence of T tokens (the first form), a step of 8 prompts of 280 tokens on OPT-small's CPU profile
     * was charged the attention of a 2,240-token sequence, extrapolated quadratically beyond the profile's 512-token
     * grid: the event simulator's V1 throughput came out 34-41% below the job's (bench, 2026-12-07). On a pipeline of several stages the T tokens go through as one micro-batch per stage
     * (vLLM's pipeline parallelism keeps one batch in flight per stage).
     */
    public double mixedStepMs(int n, int meanContextTokens, int microBatch, int[] chunkComputedTokens, int[] chunkTokens) {
        long tokens = n;
        for (int t : chunkTokens) tokens += t;
        double ms = tokenPassMs(pipeline, (int) Math.min(Integer.MAX_VALUE, Math.max(1, tokens)), chunkTokens.length)
                + decodeRowsMs(n, meanContextTokens, microBatch);
        for (int i = 0; i < chunkTokens.length; i++) {
            ms += chunkContextMs(pipeline, chunkComputedTokens[i], chunkTokens[i]);
        }
        return ms;
    }

    /**
     * What {@code n} decode rows add to a step's token pass: their attention over their contexts (the decode iteration
     * at the mean context minus the same at a one-token context) and their model head; 0 without decodes.
     */
    public double decodeRowsMs(int n, int meanContextTokens, int microBatch) {
        if (n <= 0) return 0;
        return Math.max(0, decodeMs(n, meanContextTokens, microBatch) - decodeMs(n, 1, microBatch)) + pipeline.headMs(Phase.DECODE, n);
    }

    /**
     * The token-wise work of a step of {@code tokens} tokens, weights read once: a prefill of that many tokens as
     * {@code sequences} sequences of equal length (at least one: a step of decodes only is one sequence of its tokens),
     * split into one micro-batch per stage on a pipeline of several stages, which then takes max(pass, M x bottleneck).
     */
    static double tokenPassMs(Pipeline p, int tokens, int sequences) {
        int m = p.stages().size();
        int seqs = Math.max(1, Math.min(sequences, tokens));
        if (m <= 1) return p.passMs(Phase.ENCODE, seqs, (tokens + seqs - 1) / seqs);
        int per = (tokens + m - 1) / m;                             // a micro-batch's tokens
        int perSeqs = Math.max(1, Math.min(per, (seqs + m - 1) / m));
        int len = (per + perSeqs - 1) / perSeqs;
        return Math.max(p.passMs(Phase.ENCODE, perSeqs, len), m * p.bottleneckMs(Phase.ENCODE, perSeqs, len));
    }

    /**
     * A continuing chunk's attention to the {@code numComputedTokens} prompt tokens before it: what a prefill of c + k
     * tokens costs beyond prefills of c and of k tokens (the cross term of attention; the token-wise work cancels),
     * with one token's prefill added back for the weights the difference subtracted twice. 0 for a first chunk.
     */
    static double chunkContextMs(Pipeline p, int numComputedTokens, int numTokens) {
        if (numComputedTokens <= 0) return 0;
        double crossMs = p.passMs(Phase.ENCODE, 1, numComputedTokens + numTokens) - p.passMs(Phase.ENCODE, 1, numComputedTokens)
                - p.passMs(Phase.ENCODE, 1, numTokens) + p.passMs(Phase.ENCODE, 1, 1);
        return Math.max(0, crossMs) / p.stages().size();   // spread over the stages' micro-batches, as the tokens are
    }

    /**
     * The expected context terms of a prompt of {@code promptTokens} prefilled where a step has {@code roomTokens}
     * of budget for prompts: cut into chunks of the room when longer; when shorter, cut once (at its middle, on
     * average) when the budget runs out inside it, which happens with probability length / room.
     */
    static double promptContextMs(Pipeline p, int promptTokens, int roomTokens) {
        if (promptTokens <= roomTokens) {
            int half = promptTokens / 2;
            return half < 1 ? 0 : (double) promptTokens / roomTokens * chunkContextMs(p, half, promptTokens - half);
        }
        double ms = 0;
        for (int done = 0; done < promptTokens; done += roomTokens) {
            ms += chunkContextMs(p, done, Math.min(roomTokens, promptTokens - done));
        }
        return ms;
    }
}
