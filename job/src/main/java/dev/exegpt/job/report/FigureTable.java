package dev.exegpt.job.report;

import java.io.PrintStream;

import java.util.ArrayList;
import java.util.List;

import dev.exegpt.job.report.ReportInput.Run;
import dev.exegpt.job.report.ReportInput.Table;
import dev.exegpt.job.report.ReportInput.Table.Column;
import dev.exegpt.job.report.ReportInput.Table.Row;

/**
 * Tables of runs' figures: a label column, then one column per {@link Figure}, every cell from {@link RunFigures}. The
 * report's summary, the bench's table and the audit's groups are all made here, printed or on the page.
 */
public final class FigureTable {

    /** One row: its label, the {@link Run#key()} it shows (empty for a group that is no run), and its figures. */
    public record Line(String label, String run, RunFigures figures) {}

    private FigureTable() {}

    /** A row per run, keyed by the run. */
    public static Table ofRuns(String title, String note, String labelHeader, List<Run> runs, List<Figure> figures) {
        List<Line> lines = new ArrayList<>();
        for (Run r : runs) {
            lines.add(new Line(r.label(), r.key(), RunFigures.of(r.results())));
        }
        return of(title, note, labelHeader, lines, figures);
    }

    public static Table of(String title, String note, String labelHeader, List<Line> lines, List<Figure> figures) {
        List<Column> columns = new ArrayList<>();
        columns.add(new Column(labelHeader, ""));
        figures.forEach(f -> columns.add(new Column(f.header(), f.id())));
        List<Row> rows = new ArrayList<>();
        for (Line line : lines) {
            List<String> cells = new ArrayList<>();
            cells.add(line.label());
            figures.forEach(f -> cells.add(f.value().apply(line.figures())));
            rows.add(new Row(line.run(), cells));
        }
        return new Table(title, note, columns, rows);
    }

    /** What the span of every rate is, for a table's note. */
    public static String spanNote() {
        return "Rates are per second of the span: first arrival to last completion of each schedule version (a bench"
                + " round is one), the versions' spans added where they do not overlap.";
    }

    /** A table as aligned text columns: the first left-aligned, the others right-aligned. */
    public static void print(PrintStream out, List<String> header, List<List<String>> rows) {
        int[] width = new int[header.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = header.get(i).length();
            for (List<String> r : rows) width[i] = Math.max(width[i], r.get(i).length());
        }
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (List<String> r : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < width.length; i++) {
                String cell = r.get(i);
                line.append(i == 0 ? "" : "  ").append(i == 0 ? String.format("%-" + width[i] + "s", cell)
                        : String.format("%" + width[i] + "s", cell));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
