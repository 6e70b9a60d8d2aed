package dev.exegpt.job.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A report as one self-contained HTML page: the title, a line per run, and the tables as they are. (Minimal version;
 * the charts come with the report issue.)
 */
public final class HtmlReport {

    private HtmlReport() {}

    public static void write(Path file, ReportInput input) throws IOException {
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(escape(input.title()))
                .append("</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
                        + "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}caption{text-align:left;font-weight:bold}"
                        + "</style></head><body>\n<h1>").append(escape(input.title())).append("</h1>\n<ul>\n");
        for (ReportInput.Run run : input.runs()) {
            html.append("<li>").append(escape(run.label())).append(": ").append(run.results().size()).append(" results</li>\n");
        }
        html.append("</ul>\n");
        for (ReportInput.Table table : input.tables()) {
            html.append("<table>\n<caption>").append(escape(table.caption())).append("</caption>\n<tr>");
            for (String h : table.header()) html.append("<th>").append(escape(h)).append("</th>");
            html.append("</tr>\n");
            for (List<String> row : table.rows()) {
                html.append("<tr>");
                for (String cell : row) html.append("<td>").append(escape(cell)).append("</td>");
                html.append("</tr>\n");
            }
            html.append("</table>\n");
        }
        html.append("</body></html>\n");
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.writeString(file, html, StandardCharsets.UTF_8);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
