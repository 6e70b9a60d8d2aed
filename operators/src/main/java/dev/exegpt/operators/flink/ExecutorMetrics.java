package dev.exegpt.operators.flink;

import java.util.function.IntSupplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;

/**
 * The Flink metrics of an executor subtask, in the group {@code exegpt}: results and SLO verdicts (counters), the
 * SLO attainment so far (met / answered with an SLO), end-to-end, TTFT, TPOT and queue latencies (histograms over
 * the last {@value #WINDOW} results, ms), the encode batch and mean decode batch of those results (histograms,
 * sequences), the batch sizes of the latest result (gauges) and the queue depth (requests waiting for an encode
 * step). A reporter (Prometheus, JMX) exposes them; see flink-conf/config.yaml.
 */
final class ExecutorMetrics {

    static final int WINDOW = 2_000;

    private final Counter results;
    private final Counter sloMet;
    private final Counter sloMissed;
    private final Counter errors;
    private final Histogram endToEndMs;
    private final Histogram ttftMs;
    private final Histogram tpotMs;
    private final Histogram queueMs;
    private final Histogram encodeBatchSizes;
    private final Histogram decodeBatchSizes;
    private volatile int lastEncodeBatchSize;
    private volatile double lastDecodeBatchSize;

    /** Registers the metrics under {@code parent}; {@code numWaiting} answers the executor's queue depth. */
    ExecutorMetrics(MetricGroup parent, IntSupplier numWaiting) {
        MetricGroup g = parent.addGroup("exegpt");
        results = g.counter("results");
        sloMet = g.counter("sloMet");
        sloMissed = g.counter("sloMissed");
        errors = g.counter("errors");
        endToEndMs = g.histogram("endToEndMs", new DescriptiveStatisticsHistogram(WINDOW));
        ttftMs = g.histogram("ttftMs", new DescriptiveStatisticsHistogram(WINDOW));
        tpotMs = g.histogram("tpotMs", new DescriptiveStatisticsHistogram(WINDOW));
        queueMs = g.histogram("queueMs", new DescriptiveStatisticsHistogram(WINDOW));
        encodeBatchSizes = g.histogram("encodeBatchSizes", new DescriptiveStatisticsHistogram(WINDOW));
        decodeBatchSizes = g.histogram("decodeBatchSizes", new DescriptiveStatisticsHistogram(WINDOW));
        g.gauge("encodeBatchSize", (Gauge<Integer>) () -> lastEncodeBatchSize);
        g.gauge("decodeBatchSize", (Gauge<Double>) () -> lastDecodeBatchSize);
        g.gauge("sloAttainment", (Gauge<Double>) this::sloAttainment);
        g.gauge("queueDepth", (Gauge<Integer>) numWaiting::getAsInt);
    }

    /** Records one result (called on the engine thread; Flink's counters and histograms tolerate that). */
    void record(InferenceResult r) {
        results.inc();
        if (r.getFinishReason() == FinishReason.ERROR) {
            errors.inc();
        }
        if (r.getSloMet() != null) {
            (r.getSloMet() ? sloMet : sloMissed).inc();
        }
        endToEndMs.update(Math.round(r.getLatency().getEndToEndMs()));
        ttftMs.update(Math.round(r.getLatency().getTtftMs()));
        tpotMs.update(Math.round(r.getLatency().getTpotMs()));
        queueMs.update(Math.round(r.getLatency().getQueueMs()));
        if (r.getEncodeBatchSize() > 0) {
            encodeBatchSizes.update(r.getEncodeBatchSize());
        }
        if (r.getMeanDecodeBatchSize() > 0) {
            decodeBatchSizes.update(Math.round(r.getMeanDecodeBatchSize()));
        }
        lastEncodeBatchSize = r.getEncodeBatchSize();
        lastDecodeBatchSize = r.getMeanDecodeBatchSize();
    }

    /** Share of the results with an SLO that met it, 0..1; NaN before the first such result. */
    private double sloAttainment() {
        long met = sloMet.getCount();
        long answered = met + sloMissed.getCount();
        return answered == 0 ? Double.NaN : met / (double) answered;
    }
}
