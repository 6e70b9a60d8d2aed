package dev.exegpt.scheduler.cost.fit;

import java.util.Arrays;
import java.util.List;

import dev.exegpt.scheduler.cost.Phase;
import dev.exegpt.scheduler.sim.Pipeline;
import dev.exegpt.schemas.Profile;

/**
 * A measured run's engine steps beside what the cost model predicts for each of them, priced the way the event
 * simulator prices a step on a one-device pipeline: an encode at the mean over its own prompt lengths, a decode
 * iteration at its batch and mean context. Splits a whole-run miss into its parts: encodes, decode iterations, and the
 * time outside any step (the runner's own work between steps).
 *
 * <p>The decode iteration right after an encode counts with the encode: for T5 it computes the new sequences' cross
 * keys and values, which the profile charges to the encode (XProfiler's T5 ENCODE entries carry them). The sums are
 * what throughput depends on; the medians show whether a miss is in every step or in a tail of slow ones.
 *
 * @param numEncodes          encode steps
 * @param measuredEncodeMs    their measured time (with the decode iteration right after each), summed
 * @param predictedEncodeMs   what the cost model gives for the same steps, summed
 * @param medianEncodeRatio   the median over the encodes of measured / predicted
 * @param numDecodes          the other decode iterations
 * @param measuredDecodeMs    summed
 * @param predictedDecodeMs   summed
 * @param medianDecodeRatio   median of measured / predicted
 * @param spanMs              first step start to last step end
 * @param outsideStepsMs      span minus the steps
 */
public record StepFit(int numEncodes, double measuredEncodeMs, double predictedEncodeMs, double medianEncodeRatio,
               int numDecodes, double measuredDecodeMs, double predictedDecodeMs, double medianDecodeRatio,
               double spanMs, double outsideStepsMs) {

    public static StepFit of(List<MeasuredStep> steps, Pipeline p) {
        int ne = 0, nd = 0;
        double me = 0, pe = 0, md = 0, pd = 0, busy = 0;
        double[] re = new double[steps.size()], rd = new double[steps.size()];
        for (int i = 0; i < steps.size(); i++) {
            MeasuredStep s = steps.get(i);
            double measured = s.durationMs();
            double predicted = predictedMs(s, p);
            busy += measured;
            if (s.phase() == Phase.ENCODE) {
                if (i + 1 < steps.size() && steps.get(i + 1).phase() == Phase.DECODE) {
                    MeasuredStep next = steps.get(++i);
                    measured += next.durationMs();
                    predicted += predictedMs(next, p);
                    busy += next.durationMs();
                }
                me += measured;
                pe += predicted;
                re[ne++] = measured / predicted;
            } else {
                md += measured;
                pd += predicted;
                rd[nd++] = measured / predicted;
            }
        }
        double span = steps.isEmpty() ? 0 : steps.get(steps.size() - 1).endEpochMs() - steps.get(0).startEpochMs();
        return new StepFit(ne, me, pe, median(re, ne), nd, md, pd, median(rd, nd), span, Math.max(0, span - busy));
    }

    /** The cost model's time for one step, as the event simulator prices it (one device, no micro-batches). */
    public static double predictedMs(MeasuredStep s, Pipeline p) {
        int b = s.batchSize();
        if (s.phase() == Phase.ENCODE) {
            double sum = 0;
            for (int len : s.inputTokens()) sum += p.passMs(Phase.ENCODE, b, Math.max(1, len));
            return sum / b;
        }
        int meanContext = (int) (s.numContextTokens() / Math.max(1, b));
        return p.decodeIterationMs(b, meanContext, b);
    }

    /** A profile scale factor is held within these (a fit outside them says more about the run than the engine). */
    public static final double MIN_FACTOR = ProfileScaling.MIN_FACTOR;
    public static final double MAX_FACTOR = ProfileScaling.MAX_FACTOR;

    /** What to scale the profile's encode entries by: {@link #encodeRatio}, 1 without encodes, held in [0.5, 3]. */
    public double encodeFactor() {
        return factor(encodeRatio());
    }

    /** What to scale the profile's decode entries by: {@link #decodeRatio}, 1 without decodes, held in [0.5, 3]. */
    public double decodeFactor() {
        return factor(decodeRatio());
    }

    /** {@code p} fitted to this run: its encode and decode entries scaled by the factors ({@link ProfileScaling#scaled}). */
    public Profile applyTo(Profile p, String note) {
        return ProfileScaling.scaled(p, encodeFactor(), decodeFactor(), note);
    }

    private static double factor(double ratio) {
        return ProfileScaling.clamp(ratio);
    }

    /** Measured / predicted over the encodes, summed; NaN without any. */
    public double encodeRatio() {
        return predictedEncodeMs == 0 ? Double.NaN : measuredEncodeMs / predictedEncodeMs;
    }

    /** Measured / predicted over the other decode iterations, summed; NaN without any. */
    public double decodeRatio() {
        return predictedDecodeMs == 0 ? Double.NaN : measuredDecodeMs / predictedDecodeMs;
    }

    private static double median(double[] v, int n) {
        return n == 0 ? Double.NaN : ProfileScaling.median(Arrays.copyOf(v, n));
    }
}
