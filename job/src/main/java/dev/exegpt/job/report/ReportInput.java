package dev.exegpt.job.report;

import java.util.List;

import dev.exegpt.schemas.InferenceResult;

/**
 * What the HTML report draws: one or more runs (a policy in a bench, or the results an audit read) and any tables
 * the caller already computed (the bench table, the simulator's fidelity).
 *
 * @param title  the report's heading
 * @param runs   the runs, each drawn as its own series
 * @param tables tables shown as they are, in order
 */
public record ReportInput(String title, List<Run> runs, List<Table> tables) {

    public ReportInput {
        runs = List.copyOf(runs);
        tables = List.copyOf(tables);
    }

    /**
     * The results of one run.
     *
     * @param label   the series name, e.g. "ExeGPT RRA B_E=1 N_D=6" or "STATIC b=6"
     * @param results every result of the run (dead letters excluded)
     */
    public record Run(String label, List<InferenceResult> results) {
        public Run {
            results = List.copyOf(results);
        }
    }

    /** A table of preformatted cells; every row has as many cells as the header. */
    public record Table(String caption, List<String> header, List<List<String>> rows) {
        public Table {
            header = List.copyOf(header);
            rows = rows.stream().map(List::copyOf).toList();
            for (List<String> row : rows) {
                if (row.size() != header.size()) {
                    throw new IllegalArgumentException("table '" + caption + "': a row has " + row.size()
                            + " cells, the header " + header.size());
                }
            }
        }
    }
}
