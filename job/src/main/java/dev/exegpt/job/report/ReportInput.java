package dev.exegpt.job.report;

import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

import dev.exegpt.schemas.InferenceResult;

/**
 * What the HTML report draws: one or more runs (a policy in a bench, or a schedule in an audit) and any tables the
 * caller made (the bench table, the simulators' fidelity, the audit's groups).
 *
 * @param title       the report's heading: a few words
 * @param description one or two sentences under the heading (what was run); may be empty
 * @param arrivals    how the requests arrived, which makes one clock's SLO attainment the verdict
 * @param runs        the runs, each drawn as its own series
 * @param tables      tables shown as they are, in order
 * @param charts      charts of the caller's, each a section of markup (e.g. {@link ReportCharts#boundSweep}), drawn
 *                    before the standard ones
 * @param changes     schedule versions the job's control loop decided, marked on the timeline of the run they belong to
 */
public record ReportInput(String title, String description, Arrivals arrivals, List<Run> runs, List<Table> tables,
                          List<String> charts, List<ScheduleChange> changes) {

    public ReportInput {
        Objects.requireNonNull(arrivals, "arrivals");
        runs = List.copyOf(runs);
        tables = List.copyOf(tables);
        charts = List.copyOf(charts);
        changes = List.copyOf(changes);
    }

    /** A report with the standard charts only and no schedule changes to mark. */
    public ReportInput(String title, String description, Arrivals arrivals, List<Run> runs, List<Table> tables) {
        this(title, description, arrivals, runs, tables, List.of(), List.of());
    }

    /** The same report with the caller's charts drawn before the standard ones. */
    public ReportInput withCharts(List<String> callerCharts) {
        return new ReportInput(title, description, arrivals, runs, tables, callerCharts, changes);
    }

    /** The same report with the control loop's schedule changes marked on each run's timeline. */
    public ReportInput withChanges(List<ScheduleChange> scheduleChanges) {
        return new ReportInput(title, description, arrivals, runs, tables, charts, scheduleChanges);
    }

    /** A report of runs whose requests arrived as they came (the verdict counts from arrival), with no description. */
    public ReportInput(String title, List<Run> runs, List<Table> tables) {
        this(title, "", Arrivals.OPEN, runs, tables);
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

        /**
         * What identifies the run's results in every report: the schedule id(s) they name, else the label. A bench
         * and an audit of the same results give their runs different labels but the same key.
         */
        public String key() {
            TreeSet<String> ids = new TreeSet<>();
            results.forEach(r -> ids.add(r.getScheduleId()));
            ids.remove("");
            return ids.isEmpty() ? label : String.join("+", ids);
        }
    }

    /**
     * A table of preformatted cells.
     *
     * @param title   its heading: a few words
     * @param note    what the table counts and how, as a paragraph under it; may be empty
     * @param columns the columns
     * @param rows    the rows, each with as many cells as there are columns
     */
    public record Table(String title, String note, List<Column> columns, List<Row> rows) {

        /**
         * @param header   the column's heading; a latency or attainment names its clock here
         * @param quantity what the column shows, the same id wherever the same quantity is shown ({@link Figure#id()});
         *                 empty for a column of the caller's own
         */
        public record Column(String header, String quantity) {}

        /**
         * @param run   the {@link Run#key()} of the run the row shows, empty for a row that is not one run
         * @param cells the cells
         */
        public record Row(String run, List<String> cells) {
            public Row {
                cells = List.copyOf(cells);
            }
        }

        public Table {
            columns = List.copyOf(columns);
            rows = List.copyOf(rows);
            for (Row row : rows) {
                if (row.cells().size() != columns.size()) {
                    throw new IllegalArgumentException("table '" + title + "': a row has " + row.cells().size()
                            + " cells, the header " + columns.size());
                }
            }
        }

        /** A table of the caller's own columns and rows, none of them a figure of a run. */
        public static Table plain(String title, String note, List<String> header, List<List<String>> rows) {
            return new Table(title, note, header.stream().map(h -> new Column(h, "")).toList(),
                    rows.stream().map(r -> new Row("", r)).toList());
        }

        /** The column headings. */
        public List<String> header() {
            return columns.stream().map(Column::header).toList();
        }

        /** The rows' cells. */
        public List<List<String>> cells() {
            return rows.stream().map(Row::cells).toList();
        }
    }
}
