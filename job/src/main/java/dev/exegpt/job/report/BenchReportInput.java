package dev.exegpt.job.report;

import java.util.ArrayList;
import java.util.List;

import dev.exegpt.job.report.ReportInput.Run;
import dev.exegpt.job.report.ReportInput.Table;

/**
 * The HTML report of {@code exegpt bench}: one run per policy (all its rounds), the bench's table (the same one the
 * bench prints, every figure from {@link RunFigures}) and the simulators' fidelity table.
 */
public final class BenchReportInput {

    /** What goodput means here, under the bench's table. */
    public static final String THROUGHPUT_NOTE = "Throughput at equal SLO attainment is goodput: requests within the SLO on"
            + " the verdict clock per second of the span, every policy offered the same requests at the same times.";

    private BenchReportInput() {}

    /** The bench's table of {@code runs}: a row per policy. */
    public static Table table(List<Run> runs, Arrivals arrivals) {
        List<Figure> figures = new ArrayList<>(List.of(Figure.requests(), Figure.span(), Figure.requestsPerSecond(),
                Figure.outputTokensPerSecond()));
        figures.addAll(Figure.slo(arrivals));
        figures.addAll(List.of(Figure.ttft(50), Figure.ttft(99), Figure.tpot(50), Figure.tpot(99)));
        return FigureTable.ofRuns("Bench", THROUGHPUT_NOTE + " " + FigureTable.spanNote(), "policy", runs, figures);
    }

    /**
     * @param description what was run: model, task, SLO, requests and rounds, arrivals
     * @param fidelity    the simulators' predictions against the measured figures
     */
    public static ReportInput of(String description, List<Run> runs, Arrivals arrivals, Table fidelity) {
        return of(description, runs, arrivals, List.of(fidelity), List.of());
    }

    /**
     * @param more   tables after the bench's (the simulators' fidelity; with --sweep the sweep's table first)
     * @param charts charts before the standard ones (with --sweep, {@link ReportCharts#boundSweep})
     */
    public static ReportInput of(String description, List<Run> runs, Arrivals arrivals, List<Table> more, List<String> charts) {
        List<Table> tables = new ArrayList<>(List.of(table(runs, arrivals)));
        tables.addAll(more);
        return new ReportInput("exegpt bench", description, arrivals, runs, tables).withCharts(charts);
    }
}
