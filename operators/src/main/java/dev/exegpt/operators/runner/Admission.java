package dev.exegpt.operators.runner;

import java.util.Locale;
import java.util.function.Supplier;

import dev.exegpt.operators.core.ValidRequest;

/**
 * Admission control at the batch boundary: before a request is encoded, predict when it would finish (now + encode
 * step + one decode iteration per remaining output token at the batch it would join, from running averages of this
 * executor's measured steps: a decode iteration is fitted as fixed + per-sequence x batch, so that a figure measured
 * at a full batch does not lock out requests once the batch has emptied)
 * and, in {@link Mode#REJECT_LATE}, answer at once with a missed-SLO verdict when that is past its deadline (the
 * earlier of its {@code deadlineEpochMs} and arrival + SLO), instead of spending device time on a request that would
 * miss anyway. Until a step has been measured nothing is refused. Touched by the engine thread only.
 *
 * <p><b>The schedule's shape.</b> A request admitted now decodes at the batch the schedule runs at, not the one it
 * joins: the prediction takes the larger of the joining batch and the schedule's planned decode batch (the planner's own
 * latency model), but no larger than the largest batch among the last {@value #BATCHES_SEEN} iterations: the line is
 * fitted where it was measured and never extrapolated (a slope fitted on noisy iterations of one to three sequences put
 * a batch of nine at 218 ms where 40 ms was measured). Under RRA an executor that also encodes stalls its decoding for
 * an encode step every N_D iterations; those stalls are counted.
 *
 * <p><b>Calibrated by its own outcomes.</b> The step averages still miss what happens after the decision: another
 * process takes a core, the lengths differ from the estimate. So every request admitted here reports, when this
 * executor is done with it, the service time it took against the one predicted ({@link #finished}), and the
 * prediction is multiplied by the {@value #QUANTILE} quantile of that ratio over the last {@value #CALIBRATION_WINDOW}
 * requests done within the last {@value #CALIBRATION_MAX_AGE_MS} ms (clamped to [{@value #MIN_MARGIN},
 * {@value #MAX_MARGIN}]; while fewer than {@value #MIN_CALIBRATION} are at hand, {@link #PRIOR_MARGIN} stands in for the
 * missing ones): a request admitted at the edge then misses
 * with a probability of about 1 - {@value #QUANTILE} if the coming requests fare as the last ones did, and one with
 * more slack less often. Outcomes expire, so that a margin learnt in a bad minute, which then refuses nearly
 * everything and so learns nothing new, does not outlive it.
 *
 * <p>Where the work is split (WAA), the decoder judges each hand-over before it imports it, from its own decode
 * iterations: the decoder's queue, which the encoder cannot see, is counted where it forms. The encoder judges the
 * encode it will run and, where it can ask the decoder ({@link #downstream}: both in one process), the decode the
 * decoder {@link #publish}es for a request joining it now ({@link Forecast}); elsewhere the decode counts as zero
 * there. Without the decoder's forecast an opt-small demo beside a busy loop (WAA-C, one encoder and one decoder)
 * encoded 134 requests of 200 that its decoder then refused, each encode about 250 ms of a saturated encoder: the
 * requests behind them reached the decoder 0.9-1.9 s after arrival of a 2.7 s SLO, and were refused in turn. The two
 * stages' margins are combined as independent errors ({@link #combined}): the p80 of a sum is less than the sum of the
 * p80s.
 */
public final class Admission {

    /** {@code off}: run every request (the paper's behaviour); {@code reject-late}: refuse what cannot finish in time. */
    public enum Mode {
        OFF, REJECT_LATE;

        /** Parses {@code off} or {@code reject-late}; the message names what is expected. */
        public static Mode parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "off" -> OFF;
                case "reject-late" -> REJECT_LATE;
                default -> throw new IllegalArgumentException("admission mode '" + text + "': expected off or reject-late");
            };
        }

        public String text() {
            return this == OFF ? "off" : "reject-late";
        }
    }

    /**
     * Weight of the newest measurement in the running averages: about the last 20 steps (a fraction of a second of
     * decode iterations). At 0.2, under a busy loop beside the job, the iteration time followed each time slice: 11 ms
     * and 45 ms at the same batch a few steps apart.
     */
    static final double SMOOTHING = 0.05;

    /**
     * The same for encode steps and the iteration after an admission, which come once every N_D iterations or more
     * rarely: at 0.05 the estimate kept the first, cold encodes of a run for about fifty encode steps. Measured in an
     * opt demo (RRA B_E=4 N_D=16, offered 6.25 requests/s): the encode estimate stayed at 370-420 ms for the first 17 s
     * while the encodes run then took 21-320 ms, and the requests refused in that window (79 of its 107; 103 of 200 in the run)
     * were refused on it, charged once for their own encode and once per 16 iterations for the stalls; it fell to
     * 205-255 ms only after. At 0.2 a cold 800 ms is within 10% of a warm 200 ms after 16 encode steps (a few seconds).
     */
    static final double RARE_STEP_SMOOTHING = 0.2;

    private final Mode mode;
    private double encodeMsPerStep = Double.NaN;
    private double admitExtraMs = Double.NaN;       // the iteration after an admission, over a plain one
    // Exponentially weighted sums for the least-squares line ms = fixed + perSequence x batch.
    private double w;
    private double sumBatch;
    private double sumMs;
    private double sumBatch2;
    private double sumBatchMs;
    private volatile long numRefused;
    /**
     * The outcome ratio's quantile the prediction is multiplied by. A request admitted at the edge then meets its deadline
     * with about this probability; most admitted requests have more slack. At 0.95 the demo's accepted requests met the
     * SLO 100% of the time in four runs while more than half were refused, most of which would have met it. At 0.9 (six
     * t5 demo runs, 2026-12-07) neither side improved on 0.8: 61-166 of 200 refused, and 71-99% of the accepted requests
     * met the SLO.
     */
    static final double QUANTILE = 0.8;
    /** Outcomes the ratio's quantile is taken over (the newest). */
    static final int CALIBRATION_WINDOW = 200;
    /**
     * Outcomes the quantile is taken over at least: while fewer are at hand (a job's first seconds, or after 20 s in
     * which nearly everything was refused), the missing ones count as {@link #priorMargin}, and each real outcome
     * replaces one of them.
     */
    static final int MIN_CALIBRATION = 20;
    /**
     * The margin a job's admission starts from, before its own outcomes: the step averages of its first seconds are short
     * of what the requests then take. In the demo campaign of 2026-12-07 (six t5-small and six opt-small runs, quiet and
     * beside a busy loop) the margins of the refusals in the first 20 s, once past x1, were 1.02-1.72, and 20 of the 48
     * misses among accepted requests (11 of 25 in the four runs under 95%) had arrived in the first 5 s, admitted before
     * the margin left x1 (6-11 s in).
     */
    public static final double PRIOR_MARGIN = 1.2;
    private final double priorMargin;
    /**
     * Outcomes older than this are forgotten, ms. A margin is learnt from the requests it admits, so a high one starves
     * itself: at 60 s, three opt-small demos beside a busy loop (2026-12-08) refused at margins of x1.37-2.00 (most at the
     * 2.00 clamp) learnt in their first 10 s, and admitted 0-3 of each 5 s window's 14-31 requests for the next 25-30 s,
     * the engine idle: one run's loop had fitted 6 decode steps 30 s in, too few to re-plan.
     */
    static final long CALIBRATION_MAX_AGE_MS = 20_000;
    static final double MIN_MARGIN = 0.8;
    static final double MAX_MARGIN = 2.0;
    private final double[] outcomeRatios = new double[CALIBRATION_WINDOW];
    private final double[] outcomeTimes = new double[CALIBRATION_WINDOW];
    private int numOutcomes;
    private int decodeIterationsPerEncode;          // RRA with encodes on this executor: N_D; 0: no stalls counted
    private int plannedDecodeBatch;                 // the schedule's decode batch; 0: unknown
    /** Decode iterations whose batch sizes bound the batch a prediction is made at. */
    static final int BATCHES_SEEN = 100;
    private final int[] recentBatches = new int[BATCHES_SEEN];
    private int numBatches;

    /**
     * A decoder's prediction for a request handed over to it now, before its margin: a decode iteration at the batch
     * it would join and the first iteration's extra, ms; and the margin its own outcomes give.
     */
    public record Forecast(double iterationMs, double admitExtraMs, double margin) {
        /** Decode service of a request of outputTokens (the first comes with its encode), ms, before the margin. */
        public double serviceMs(int outputTokens) {
            return admitExtraMs + iterationMs * Math.max(0, outputTokens - 1);
        }
    }

    /** An encoder's view of the decoder its hand-overs go to (a null forecast: not known yet); null: none. */
    private Supplier<Forecast> downstream;
    /** A decoder's forecast, published by its engine thread for an encoder's thread; null before a decode iteration. */
    private volatile Forecast published;

    /** Starting from {@link #PRIOR_MARGIN}. */
    public Admission(Mode mode) {
        this(mode, PRIOR_MARGIN);
    }

    /** @param priorMargin the margin before this admission's own outcomes (1: the prediction as it is) */
    public Admission(Mode mode, double priorMargin) {
        if (!(priorMargin >= MIN_MARGIN && priorMargin <= MAX_MARGIN)) {
            throw new IllegalArgumentException("priorMargin must be in [" + MIN_MARGIN + ", " + MAX_MARGIN + "], got " + priorMargin);
        }
        this.mode = mode;
        this.priorMargin = priorMargin;
    }

    public Mode mode() {
        return mode;
    }

    /** Hears how long an encode step took, ms. */
    public void observeEncode(double ms) {
        encodeMsPerStep = smooth(encodeMsPerStep, ms, RARE_STEP_SMOOTHING);
    }

    /**
     * Hears how long the first decode iteration after newly admitted sequences took, ms: for T5 it also computes their
     * cross-attention keys and values, worth several plain iterations. It is kept off the line of plain iterations, and
     * what it costs over a plain iteration of its batch is charged to every admission (a request's own, and under RRA
     * each encode that stalls its decoding). With it left out, the refusals of one t5-small demo run were made at a
     * measured-over-predicted margin of 1.39-1.59; with it, those of three later runs still at medians of 1.03-1.76, so
     * the prediction stays short by more than this iteration.
     */
    public void observeDecodeAfterAdmit(double ms, int batchSize) {
        double plain = decodeMsPerIteration(batchSize);
        if (Double.isNaN(plain)) return;
        admitExtraMs = smooth(admitExtraMs, Math.max(0, ms - plain), RARE_STEP_SMOOTHING);
    }

    /** Hears how long a decode iteration of {@code batchSize} sequences took, ms. */
    public void observeDecode(double ms, int batchSize) {
        recentBatches[numBatches++ % BATCHES_SEEN] = batchSize;
        double keep = 1 - SMOOTHING;
        w = keep * w + 1;
        sumBatch = keep * sumBatch + batchSize;
        sumMs = keep * sumMs + ms;
        sumBatch2 = keep * sumBatch2 + (double) batchSize * batchSize;
        sumBatchMs = keep * sumBatchMs + batchSize * ms;
    }

    /**
     * The schedule in force: its planned decode batch ({@code plannedDecodeBatch}, 0 if none) and, where this executor
     * both encodes and decodes under RRA, the decode iterations between two encode steps ({@code decodeIterationsPerEncode},
     * 0 where decoding is not stalled by encodes here).
     */
    public void schedule(int plannedDecodeBatch, int decodeIterationsPerEncode) {
        this.plannedDecodeBatch = Math.max(0, plannedDecodeBatch);
        this.decodeIterationsPerEncode = Math.max(0, decodeIterationsPerEncode);
    }

    /**
     * A request admitted here is done on this executor (finished, or handed over) at {@code nowEpochMs}: its service
     * time measured from admission against the {@link #predictedServiceMs} it was admitted on. Non-positive or NaN
     * predictions are ignored.
     */
    public void finished(double predictedServiceMs, double measuredServiceMs, double nowEpochMs) {
        if (!(predictedServiceMs > 0) || !(measuredServiceMs >= 0)) {
            return;
        }
        int i = numOutcomes % CALIBRATION_WINDOW;
        outcomeRatios[i] = measuredServiceMs / predictedServiceMs;
        outcomeTimes[i] = nowEpochMs;
        numOutcomes++;
    }

    /**
     * What a prediction is multiplied by at {@code nowEpochMs}: the outcome ratio's quantile over the outcomes of the
     * last {@value #CALIBRATION_MAX_AGE_MS} ms, with the prior margin standing in for the missing ones while there are
     * fewer than {@value #MIN_CALIBRATION}.
     */
    public double margin(double nowEpochMs) {
        int n = Math.min(numOutcomes, CALIBRATION_WINDOW);
        double[] recent = new double[Math.max(n, MIN_CALIBRATION)];
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (nowEpochMs - outcomeTimes[i] <= CALIBRATION_MAX_AGE_MS) recent[k++] = outcomeRatios[i];
        }
        while (k < MIN_CALIBRATION) {
            recent[k++] = priorMargin;
        }
        java.util.Arrays.sort(recent, 0, k);
        double q = recent[Math.min(k - 1, (int) Math.ceil(QUANTILE * k) - 1)];
        return Math.max(MIN_MARGIN, Math.min(MAX_MARGIN, q));
    }

    /** Predicted ms of one decode iteration of {@code batchSize} sequences; NaN before any was measured. */
    public double decodeMsPerIteration(int batchSize) {
        if (w == 0) {
            return Double.NaN;
        }
        double meanBatch = sumBatch / w;
        double meanMs = sumMs / w;
        double varBatch = sumBatch2 / w - meanBatch * meanBatch;
        if (varBatch < 0.25) {
            return meanMs;                                   // one batch size seen so far: no slope to fit
        }
        // A line through no point below the origin: ms = fixed + slope x batch with fixed >= 0 (a step's weights are read
        // whatever the batch), so noise cannot make the slope steeper than the mean cost per sequence.
        double slope = Math.min(meanMs / meanBatch, Math.max(0, (sumBatchMs / w - meanBatch * meanMs) / varBatch));
        double fixed = meanMs - slope * meanBatch;
        return Math.max(1e-3, fixed + slope * batchSize);
    }

    private static double smooth(double average, double ms, double weight) {
        return Double.isNaN(average) ? ms : (1 - weight) * average + weight * ms;
    }

    /** The earlier of the request's own deadline and arrival + SLO, ms since the epoch; {@code Long.MAX_VALUE} if none. */
    public static long deadlineEpochMs(ValidRequest r) {
        long deadline = Long.MAX_VALUE;
        Long own = r.request().getDeadlineEpochMs();
        if (own != null) {
            deadline = own;
        }
        if (r.sloLatencyMs() > 0) {
            deadline = Math.min(deadline, r.arrivedEpochMs() + r.sloLatencyMs());
        }
        return deadline;
    }

    /** Output tokens the request is expected to need: maxNewTokens with ignoreEos, else the estimate when there is one. */
    static int expectedOutputTokens(ValidRequest r) {
        int max = r.request().getMaxNewTokens();
        if (r.request().getIgnoreEos() || r.numEstimatedOutputTokens() <= 0) {
            return max;
        }
        return Math.min(max, r.numEstimatedOutputTokens());
    }

    /**
     * Service time the request would need from now, ms, decoding in a batch of {@code decodeBatchSize}: one encode
     * step plus a decode iteration for every output token after the first (the prefill yields one), before the
     * {@link #margin()}; NaN until a step has been measured. A phase that this executor does not run counts as zero:
     * the decode at a WAA encoder, the encode at a WAA decoder (it judges an encoded request by its decode alone).
     */
    /** The batch a request joining one of {@code decodeBatchSize} is predicted to decode at (see the class comment). */
    int predictionBatch(int decodeBatchSize) {
        int largestSeen = 0;
        for (int i = 0; i < Math.min(numBatches, BATCHES_SEEN); i++) largestSeen = Math.max(largestSeen, recentBatches[i]);
        return Math.max(decodeBatchSize, Math.min(plannedDecodeBatch, largestSeen));
    }

    public double predictedServiceMs(ValidRequest r, int decodeBatchSize) {
        double iteration = decodeMsPerIteration(predictionBatch(decodeBatchSize));
        if (Double.isNaN(encodeMsPerStep) && Double.isNaN(iteration)) {
            return Double.NaN;
        }
        double encode = (Double.isNaN(encodeMsPerStep) ? 0 : encodeMsPerStep) + (Double.isNaN(admitExtraMs) ? 0 : admitExtraMs);
        int iterations = Math.max(0, expectedOutputTokens(r) - 1);
        double decode = Double.isNaN(iteration) ? 0 : iteration * iterations;
        double stalls = decodeIterationsPerEncode > 0 ? encode * Math.ceil((double) iterations / decodeIterationsPerEncode) : 0;
        return encode + decode + stalls;
    }

    /**
     * Why the request is refused now, or null to run it (always null when {@link Mode#OFF}).
     *
     * @param decodeBatchSize the decode batch it would join (the active sequences plus the ones encoded with it)
     */
    public String refusal(ValidRequest r, double nowEpochMs, int decodeBatchSize) {
        if (mode == Mode.OFF) {
            return null;
        }
        long deadline = deadlineEpochMs(r);
        double predicted = predictedServiceMs(r, decodeBatchSize);
        double margin = margin(nowEpochMs);
        Supplier<Forecast> next = downstream;
        Forecast decoder = next == null ? null : next.get();
        double later = decoder == null ? Double.NaN : decoder.serviceMs(expectedOutputTokens(r));
        double service = Double.isNaN(later) ? predicted * margin : combined(predicted, margin, later, decoder.margin());
        if (deadline == Long.MAX_VALUE || Double.isNaN(service) || nowEpochMs + service <= deadline) {
            return null;
        }
        numRefused++;
        return String.format(Locale.ROOT, "admission (reject-late): predicted finish %.0f ms after arrival (waited %.0f ms, "
                        + "service ~%.0f ms: (encode %.1f ms + first iteration after it %.1f ms over a plain one + %d tokens x %.2f ms"
                        + " at decode batch %d%s) x %.2f, the p%.0f of measured over predicted here%s) is past the deadline %d ms"
                        + " after arrival; answered early instead of run",
                nowEpochMs + service - r.arrivedEpochMs(), nowEpochMs - r.arrivedEpochMs(), service,
                Double.isNaN(encodeMsPerStep) ? 0.0 : encodeMsPerStep, Double.isNaN(admitExtraMs) ? 0.0 : admitExtraMs,
                expectedOutputTokens(r),
                w == 0 ? 0.0 : decodeMsPerIteration(predictionBatch(decodeBatchSize)), predictionBatch(decodeBatchSize),
                decodeIterationsPerEncode > 0 ? " + an encode every " + decodeIterationsPerEncode + " iterations" : "",
                margin, QUANTILE * 100,
                Double.isNaN(later) ? "" : String.format(Locale.ROOT, "; + the decoder's %.0f ms for it x %.2f, its margin, the two"
                        + " margins combined as independent errors", later, decoder.margin()),
                deadline - r.arrivedEpochMs());
    }

    /**
     * Encode and decode of one request on two executors, each with its margin: the two predictions plus their
     * margins' excesses combined as independent errors (the root of the sum of squares) where both are excesses.
     */
    static double combined(double encodeMs, double encodeMargin, double decodeMs, double decodeMargin) {
        if (Double.isNaN(encodeMs)) return decodeMs * decodeMargin;
        double e = encodeMs * (encodeMargin - 1);
        double d = decodeMs * (decodeMargin - 1);
        return encodeMs + decodeMs + (e >= 0 && d >= 0 ? Math.hypot(e, d) : e + d);
    }

    /**
     * Publishes, for an encoder upstream, what a request handed over now would cost here ({@link Forecast}) at the batch
     * it would join ({@code joiningBatchSize}). Engine thread; {@link #published} may be read from any thread.
     */
    public void publish(int joiningBatchSize, double nowEpochMs) {
        double iteration = decodeMsPerIteration(predictionBatch(joiningBatchSize));
        if (Double.isNaN(iteration)) return;
        published = new Forecast(iteration, Double.isNaN(admitExtraMs) ? 0 : admitExtraMs, margin(nowEpochMs));
    }

    /** The last {@link #publish}ed forecast; null before. Thread-safe. */
    public Forecast published() {
        return published;
    }

    /**
     * Where this admission's executor hands its requests to a decoder: its forecast (null while unknown) counts in the
     * predicted finish from now on.
     */
    public void downstream(Supplier<Forecast> decoder) {
        this.downstream = decoder;
    }

    /** Requests refused so far. */
    public long numRefused() {
        return numRefused;
    }
}
