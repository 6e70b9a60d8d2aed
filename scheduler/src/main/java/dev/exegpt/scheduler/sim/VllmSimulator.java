package dev.exegpt.scheduler.sim;

import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.plan.Candidate;

/**
 * vLLM's schedulers at saturation, on the same cost model, pipelines and latency definition as ExeGPT
 * ({@link XSimulator}); the policies themselves are {@code BudgetedPromptBatching} (V0) and
 * {@code ChunkedPrefillBatching} (V1), which the event simulator and the job's executors run. The candidate's own
 * TP layout is used (the baselines get TP within a node and PP across nodes, as vLLM deploys; the planner may give
 * the chunked-prefill family partial TP like RRA). Latency is, as for every policy, that of a request of the bound
 * length from the start of its own prefill; the request is not assumed to wait behind others.
 */
final class VllmSimulator {
    private final XSimulator x;
    private final Scenario sc;

    /**
     * The latency buffer for steps that vary around their mean composition (prefill stalls under V0, steps laden
     * with chunks under V1): the same fraction as WAA's runtime-adjustment buffer (5% by default). Without it the
     * event runs' worst bound-length request came 10-16% above the mean-step estimate.
     */
    private double variationBuffer() {
        return sc.options().waaBufferFraction();
    }

    VllmSimulator(XSimulator x) {
        this.x = x;
        this.sc = x.scenario();
    }

    /**
     * V0: R = max_num_seqs requests decode; a decode step retires c = R / E[S] of them on average (Little's law), and
     * when any finished the next step is a prompt-only step refilling the freed slots, at most as many prompts as fit
     * the token budget per step. So per decode step: P(any finished) ~ 1 - e^-c prefill steps (or c / k_max when the
     * budget binds) of c / that many prompts each. The bound-length request pays its prefill and, at every one of its
     * decode steps, the expected prefill stall.
     */
    Estimate v0(Candidate c) {
        int bound = sc.workload().boundOutputTokens();
        Pipeline p = x.rraPipeline(c);
        if (p == null) return Estimate.infeasible(c, "more pipeline stages than layers", bound);
        int stages = p.stages().size();
        int seqs = c.encodeBatchSize();
        int ctx = x.meanDecodeContextTokens();
        double meanIn = x.meanInputExact();
        double completions = seqs / x.meanOutputTokens();
        int maxPerPrefill = (int) Math.max(1, Math.min(seqs, Math.floor(c.maxNumBatchedTokens() / meanIn)));
        double prefillSteps = Math.max(1 - Math.exp(-completions), completions / maxPerPrefill);
        int perPrefill = (int) Math.max(1, Math.min(maxPerPrefill, Math.round(completions / prefillSteps)));
        double encMs = x.overInputs(len -> p.makespanMs(Phase.ENCODE, perPrefill, len, stages));
        int mb = Math.max(1, (seqs + stages - 1) / stages);
        double iterMs = p.decodeIterationMs(seqs, ctx, mb);
        double cycleMs = iterMs + prefillSteps * encMs;
        double seqPerSec = completions * 1000 / cycleMs;
        double latency = (encMs + bound * cycleMs) * (1 + variationBuffer());
        long mem = Memory.peakBytes(p, sc.model(), true, (double) seqs * ctx);
        double busy = p.deviceBusyMs(Phase.DECODE, seqs, ctx, mb)
                + prefillSteps * x.overInputs(len -> p.deviceBusyMs(Phase.ENCODE, perPrefill, len, Math.max(1, perPrefill / stages)));
        return x.finish(c, latency, seqPerSec, seqs, 0, 0, encMs, iterMs, mem, busy / (c.numDevices() * cycleMs));
    }

    /**
     * V1: each step decodes n = lambda x E[S] running requests and prefills lambda x E[I] prompt tokens in chunks,
     * lambda being the requests a step admits (and retires) at steady state: the budget bounds it by B / (E[I] + E[S]),
     * the sequence cap by S / (E[S] + k), k the steps a prompt's prefill spans (its chunks get what the decodes leave
     * of the budget). A step is priced by {@link StepCost#mixedStepMs} at its mean composition: n decode tokens and
     * lambda x E[I] prompt tokens in one pass, the decodes' attention, and the attention of a prompt's later chunks
     * to its earlier ones (chunks of what the decodes leave of the budget). The bound-length request pays the steps
     * of its prefill and then one step per token.
     */
    Estimate v1(Candidate c) {
        int bound = sc.workload().boundOutputTokens();
        if (sc.model().encoderDecoder()) {
            return Estimate.infeasible(c, "vLLM V1 serves decoder-only models (it dropped encoder-decoder ones): its peer "
                    + "for " + sc.model().name() + " is VLLM_V0", bound);
        }
        Pipeline p = x.rraPipeline(c);
        if (p == null) return Estimate.infeasible(c, "more pipeline stages than layers", bound);
        int stages = p.stages().size();
        int seqs = c.encodeBatchSize();
        int budget = c.maxNumBatchedTokens();
        int ctx = x.meanDecodeContextTokens();
        double meanIn = x.meanInputExact(), meanOut = x.meanOutputTokens();
        double lambda = Math.min(budget / (meanIn + meanOut), seqs / (meanOut + 1));
        double prefillSpan = 1;
        for (int k = 0; k < 30; k++) {                       // the span depends on what the decodes leave of the budget
            prefillSpan = Math.max(1, meanIn / Math.max(1, budget - lambda * meanOut));
            lambda = Math.min(budget / (meanIn + meanOut), seqs / (meanOut + prefillSpan));
        }
        int decoding = (int) Math.ceil(lambda * meanOut);
        int chunk = Math.max(1, budget - decoding);
        int mb = Math.max(1, (decoding + stages - 1) / stages);
        StepCost cost = new StepCost(p);
        double contextMs = lambda * x.overInputs(len -> StepCost.promptContextMs(p, len, chunk));
        // A step with prompt chunks is one pass over all its tokens plus the decodes' attention and head; a step of
        // decodes only is a plain decode iteration (ChunkedPrefillBatching plans DECODE then; the event run and the
        // job run it as one).
        double rowsMs = cost.decodeRowsMs(decoding, ctx, mb);
        double decodeOnlyMs = decoding > 0 ? cost.decodeMs(decoding, ctx, mb) : 0;
        double stepMs = meanStepMs(p, decoding, lambda, meanIn, chunk, rowsMs, decodeOnlyMs) + contextMs;
        double seqPerSec = lambda * 1000 / stepMs;
        int ownPrefillSteps = (int) Math.ceil(meanIn / chunk);
        double latency = (ownPrefillSteps + bound) * stepMs * (1 + variationBuffer());
        int running = (int) Math.ceil(lambda * (meanOut + prefillSpan));
        long mem = Memory.peakBytes(p, sc.model(), true, (double) running * ctx);
        double busy = p.deviceBusyMs(Phase.DECODE, decoding, ctx, mb)
                + x.overInputs(len -> p.deviceBusyMs(Phase.ENCODE, 1, len, 1)) * lambda;
        double promptMs = Math.max(0, stepMs - p.decodeIterationMs(decoding, ctx, mb));
        return x.finish(c, latency, seqPerSec, decoding, 0, 0, promptMs, stepMs, mem, busy / (c.numDevices() * stepMs));
    }

    /**
     * The mean step but its later chunks' attention: a step with k prompts is one pass over its tokens plus the decodes'
     * rows ({@code rowsMs}), a step with none a plain decode iteration ({@code decodeOnlyMs}; priced as a pass over its
     * decode tokens, the CPU profile's prefill of a few tokens cost 2-3x the decode iteration the engine runs). Where
     * the prompts per step are far below the budget the decodes leave, they come whole and lumpy: a step holds k of them
     * with probability Poisson(lambda) (one of a random length, or k at the mean length), and since the cost is convex in the step's tokens (weight-bound below the roofline's ridge,
     * compute-bound above it) pricing the mean step underestimated it by up to 13%. Where they fill the budget, chunking
     * spreads them evenly and the mean step is right. Between the two, a blend by the budget's share left free with
     * one more prompt of mean length in the step (where it is not, the lumpy steps would spill into the next ones).
     */
    private double meanStepMs(Pipeline p, int decoding, double lambda, double meanIn, int roomTokens, double rowsMs,
                              double decodeOnlyMs) {
        double meanPrompt = lambda * meanIn;
        long promptTokens = Math.min(roomTokens, Math.round(meanPrompt));
        // Chunks in an even step: the prompt tokens in pieces of a whole prompt or of the room, whichever is shorter.
        int chunks = promptTokens == 0 ? 0 : (int) Math.max(1, Math.round(promptTokens / Math.min(meanIn, roomTokens)));
        double even = chunks == 0 ? decodeOnlyMs : StepCost.tokenPassMs(p, Math.max(1, decoding + (int) promptTokens), chunks) + rowsMs;
        double free = Math.max(0, Math.min(1, 1 - (meanPrompt + meanIn) / roomTokens));   // room for one more prompt
        return free * lumpyStepMs(p, decoding, lambda, meanIn, roomTokens, rowsMs, decodeOnlyMs) + (1 - free) * even;
    }

    private double lumpyStepMs(Pipeline p, int decoding, double lambda, double meanIn, int roomTokens, double rowsMs,
                               double decodeOnlyMs) {
        double sum = 0, mass = 0, pk = Math.exp(-lambda);
        for (int k = 0; k <= 64 && (k <= lambda || pk > 1e-4); k++) {
            final int numPrompts = k;
            double ms = k == 0 ? decodeOnlyMs
                    : rowsMs + (k == 1 ? x.overInputs(len -> StepCost.tokenPassMs(p, decoding + Math.min(len, roomTokens), 1))
                    : StepCost.tokenPassMs(p, decoding + (int) Math.min(roomTokens, Math.round(numPrompts * meanIn)), numPrompts));
            sum += pk * ms;
            mass += pk;
            pk *= lambda / (k + 1);
        }
        return sum / mass;
    }
}
