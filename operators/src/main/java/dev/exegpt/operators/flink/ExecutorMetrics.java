package dev.exegpt.operators.flink;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;

/**
 * The Flink metrics of an executor subtask, in the group {@code exegpt}: results and SLO verdicts (counters),
 * end-to-end, TTFT, TPOT and queue latencies (histograms over the last {@value #WINDOW} results, ms), and the batch
 * sizes of the latest result. A reporter (Prometheus, JMX) exposes them; see flink-conf/config.yaml.
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
    private volatile int lastEncodeBatchSize;
    private volatile double lastDecodeBatchSize;

    ExecutorMetrics(MetricGroup parent) {
        MetricGroup g = parent.addGroup("exegpt");
        results = g.counter("results");
        sloMet = g.counter("sloMet");
        sloMissed = g.counter("sloMissed");
        errors = g.counter("errors");
        endToEndMs = g.histogram("endToEndMs", new DescriptiveStatisticsHistogram(WINDOW));
        ttftMs = g.histogram("ttftMs", new DescriptiveStatisticsHistogram(WINDOW));
        tpotMs = g.histogram("tpotMs", new DescriptiveStatisticsHistogram(WINDOW));
        queueMs = g.histogram("queueMs", new DescriptiveStatisticsHistogram(WINDOW));
        g.gauge("encodeBatchSize", (Gauge<Integer>) () -> lastEncodeBatchSize);
        g.gauge("decodeBatchSize", (Gauge<Double>) () -> lastDecodeBatchSize);
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
        lastEncodeBatchSize = r.getEncodeBatchSize();
        lastDecodeBatchSize = r.getMeanDecodeBatchSize();
    }
}
