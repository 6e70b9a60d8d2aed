package dev.exegpt.job.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * One figure of a run as a table column: its id (the same wherever the same quantity is shown, so a check can match
 * tables), its heading, which names the clock of a latency or attainment and the span of a rate, and how its cell is
 * written from the run's {@link RunFigures}. Every table of runs takes its columns from here.
 *
 * @param id      e.g. "attainment from encode start"
 * @param header  the column heading
 * @param value   the cell of a run
 */
public record Figure(String id, String header, Function<RunFigures, String> value) {

    public static Figure requests() {
        return new Figure("requests", "requests", f -> Long.toString(f.numRequests()));
    }

    /** The span every rate is counted over, s. */
    public static Figure span() {
        return new Figure("span", "span s", f -> f.numRequests() == 0 ? "-" : fmt("%.1f", f.spanMs() / 1000.0));
    }

    public static Figure requestsPerSecond() {
        return new Figure("requests/s", "req/s over span", f -> rate(f, f.requestsPerSecond()));
    }

    public static Figure outputTokensPerSecond() {
        return new Figure("output tokens/s", "out tok/s over span", f -> f.numRequests() == 0 ? "-" : fmt("%.1f", f.outputTokensPerSecond()));
    }

    /** Requests within the SLO on {@code clock} per second of the span. */
    public static Figure goodput(SloClock clock) {
        return new Figure("goodput " + clock.label(), "goodput req/s, SLO " + clock.label(),
                f -> rate(f, f.goodputPerSecond(clock)));
    }

    /** SLO attainment on {@code clock}; the heading says when it is the run's verdict. */
    public static Figure attainment(SloClock clock, boolean verdict) {
        return new Figure("attainment " + clock.label(), "SLO attainment " + clock.label() + (verdict ? " (verdict)" : ""), f -> {
            RunFigures.Slo s = f.on(clock);
            return s.attainment() == null ? "-" : fmt("%.1f%% (%d/%d)", 100 * s.attainment(), s.numMet(), s.numWithSlo());
        });
    }

    /** A latency percentile on {@code clock}; {@code percentile} is 50, 90 or 99. */
    public static Figure latency(SloClock clock, int percentile) {
        Function<RunFigures.Slo, Double> p = switch (percentile) {
            case 50 -> RunFigures.Slo::p50Ms;
            case 90 -> RunFigures.Slo::p90Ms;
            case 99 -> RunFigures.Slo::p99Ms;
            default -> throw new IllegalArgumentException("percentile must be 50, 90 or 99, got " + percentile);
        };
        return new Figure("p" + percentile + " latency " + clock.label(), "p" + percentile + " ms " + clock.label(),
                f -> f.numRequests() == 0 ? "-" : fmt("%.0f", p.apply(f.on(clock))));
    }

    /** Time to first token, from arrival (the only clock it is recorded on); {@code percentile} is 50 or 99. */
    public static Figure ttft(int percentile) {
        return new Figure("p" + percentile + " TTFT from arrival", "TTFT p" + percentile + " ms from arrival",
                f -> f.numRequests() == 0 ? "-" : fmt("%.0f", percentile == 50 ? f.pooled().getTtftP50Ms() : f.pooled().getTtftP99Ms()));
    }

    /** Time per output token after the first (a gap between tokens, on no clock); {@code percentile} is 50 or 99. */
    public static Figure tpot(int percentile) {
        return new Figure("p" + percentile + " TPOT", "TPOT p" + percentile + " ms",
                f -> f.numRequests() == 0 ? "-" : fmt("%.1f", percentile == 50 ? f.pooled().getTpotP50Ms() : f.pooled().getTpotP99Ms()));
    }

    public static Figure meanEncodeBatch() {
        return new Figure("mean encode batch", "mean encode batch", f -> f.numRequests() == 0 ? "-" : fmt("%.1f", f.pooled().getMeanEncodeBatchSize()));
    }

    public static Figure meanDecodeBatch() {
        return new Figure("mean decode batch", "mean decode batch", f -> f.numRequests() == 0 ? "-" : fmt("%.1f", f.pooled().getMeanDecodeBatchSize()));
    }

    public static Figure estimatorError() {
        return new Figure("estimator error", "estimator error (tokens, mean abs)", f -> f.pooled().getEstimatorMeanAbsErrorTokens() == null
                ? "-" : fmt("%.1f", f.pooled().getEstimatorMeanAbsErrorTokens()));
    }

    /**
     * The SLO figures of a run on both clocks, the verdict's first: attainment, p50 and p99 latency and goodput on the
     * verdict clock, then attainment and p99 on the other.
     */
    public static List<Figure> slo(Arrivals arrivals) {
        SloClock verdict = arrivals.verdict();
        SloClock other = verdict == SloClock.ARRIVAL ? SloClock.ENCODE_START : SloClock.ARRIVAL;
        return List.of(attainment(verdict, true), latency(verdict, 50), latency(verdict, 99), goodput(verdict),
                attainment(other, false), latency(other, 99));
    }

    /** The summary of a run: requests and span, rates, the SLO figures on both clocks, TTFT, TPOT and batch sizes. */
    public static List<Figure> summary(Arrivals arrivals) {
        List<Figure> out = new ArrayList<>(List.of(requests(), span(), requestsPerSecond(), outputTokensPerSecond()));
        out.addAll(slo(arrivals));
        out.addAll(List.of(ttft(50), tpot(50), meanEncodeBatch(), meanDecodeBatch()));
        return out;
    }

    private static String rate(RunFigures f, double perSecond) {
        return f.numRequests() == 0 ? "-" : fmt("%.2f", perSecond);
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
