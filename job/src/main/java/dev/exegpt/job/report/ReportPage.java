package dev.exegpt.job.report;

/** The fixed parts of the report's page: its style sheet, its check script and the note on how charts are derived. */
final class ReportPage {

    private ReportPage() {}

    static final String CSS = """
            body { font: 14px/1.4 system-ui, sans-serif; color: #222; background: #fff; margin: 24px; max-width: 1200px; }
            h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 6px; } h3 { font-size: 14px; margin: 14px 0 4px; }
            p { max-width: 80ch; margin: 4px 0; } .meta, .note, figcaption { color: #555; font-size: 12px; }
            p.verdict { font-weight: 600; } th.verdict, td.verdict { font-weight: 700; background: #fff6d6; }
            figure { margin: 8px 0 4px; } figcaption { margin-top: 2px; max-width: 80ch; }
            .scroll { overflow-x: auto; max-width: 100%; }
            table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 6px 0; font-size: 12px; }
            th, td { border: 1px solid #ccc; padding: 2px 5px; text-align: right; white-space: nowrap; }
            th { background: #f2f2f2; white-space: normal; font-weight: 600; vertical-align: bottom; }
            td:first-child, th:first-child { text-align: left; } td:first-child { white-space: normal; min-width: 9em; }
            ul.legend { list-style: none; padding: 0; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 12px; }
            .swatch { display: inline-block; width: 22px; height: 0; border-top: 3px solid; vertical-align: middle; margin-right: 6px; }
            .swatch.dashed { border-top-style: dashed; }
            svg { display: block; overflow: visible; max-width: 100%; height: auto; }
            svg text { font-size: 11px; fill: #333; }
            svg .tick.y, svg .lane { text-anchor: end; } svg .tick.x, svg .axis-label { text-anchor: middle; }
            svg .axis { stroke: #444; stroke-width: 1; } svg .grid { stroke: #e6e6e6; stroke-width: 1; }
            svg .series { fill: none; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }
            svg .marker { stroke: #000; stroke-width: 1; stroke-dasharray: 2 3; } svg .marker-label { font-size: 10px; }
            svg .block.decode { opacity: 0.3; } svg .block.encode { opacity: 0.95; }
            """;

    static final String DERIVED = """
            <ul>
            <li>Every chart is computed from the results alone (InferenceResult and its RequestLatency), nothing else.</li>
            <li>Clocks: a latency from arrival runs from the request's Kafka record timestamp to its last token (the job's own
            SLO verdict); from encode start, from the start of the encode step that included it to its last token (the
            paper's clock, for bulk arrivals). Every figure of a run in the tables is computed once, by the same code the
            audit and the bench print with.</li>
            <li>CDF: each run's latencies on the verdict clock, sorted; a dotted line marks each SLO that applied.</li>
            <li>SLO attainment: results that met their SLO on the verdict clock among those with one, per window of
            completion time; a window in which none completed has no point, and no line crosses it.</li>
            <li>Batch sizes: the encode batch of each encode step, and each request's mean decode batch over its decode
            iterations, averaged per window.</li>
            <li>Timeline: one lane per executor (device group) that answered requests. An encode micro-batch is the requests
            of one executor whose encode began at the same time (arrival + queueMs), drawn for its encodeMs (solid). Decode
            is drawn merged per executor: the union of its requests' decode spans (end of encode to last token), so a light
            span is time in which the executor had at least one sequence decoding, stalls for other encodes included; the
            individual decode micro-batches are not in the results. Under WAA the lane is the decoder group that answered,
            so its encode blocks show when the encoder group encoded those requests.</li>
            </ul>
            """;

    /**
     * Counts, per chart, the marks the browser laid out with a size (a rectangle in both directions, a line in
     * either), notes where the chart is on the page, and writes the page's laid-out width into the body's
     * {@code data-page-width} and the number of tables too wide for the page (scrolled sideways) into
     * {@code data-tables-clipped}. Inside CDATA in the page, so '&amp;' needs no escape.
     */
    static final String SCRIPT = """
            (function () {
              var charts = document.querySelectorAll('svg[data-chart]');
              var drawn = 0;
              charts.forEach(function (svg) {
                var n = 0;
                svg.querySelectorAll('.mark').forEach(function (m) {
                  var b = m.getBBox();
                  var sized = m.tagName === 'rect' ? b.width > 0 && b.height > 0 : b.width + b.height > 0;
                  if (sized) { n++; }
                });
                var r = svg.getBoundingClientRect();
                svg.setAttribute('data-drawn', String(n));
                svg.setAttribute('data-rect', [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height].map(Math.round).join(','));
                if (n > 0) { drawn++; }
              });
              document.body.setAttribute('data-charts-drawn', drawn + '/' + charts.length);
              document.body.setAttribute('data-page-width', String(document.documentElement.scrollWidth));
              var clipped = 0;
              document.querySelectorAll('.scroll').forEach(function (d) { if (d.scrollWidth > d.clientWidth + 1) { clipped++; } });
              document.body.setAttribute('data-tables-clipped', String(clipped));
            })();""";
}
