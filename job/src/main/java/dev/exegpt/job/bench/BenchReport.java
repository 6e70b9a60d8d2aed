package dev.exegpt.job.bench;

import dev.exegpt.job.local.LocalRig;
import dev.exegpt.job.pipeline.JsonLines;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.exegpt.job.report.Arrivals;
import dev.exegpt.job.report.BenchReportInput;
import dev.exegpt.job.report.FigureTable;
import dev.exegpt.job.report.HtmlReport;
import dev.exegpt.job.report.ReportInput;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.InferenceResult;

/**
 * The bench's table, the simulators' fidelity table, and the files: bench.json (every figure and the options),
 * results-POLICY.jsonl (every result, Avro JSON) and bench.html.
 */
public final class BenchReport {

    private final List<BenchArm> arms;
    private final List<PeerArm> peers;
    private final long sloMs;
    private final String task;
    private final int numRequests;
    private final int numRounds;
    private final boolean bulk;
    private final double offeredPerSecond;
    private final long seed;
    private final LocalRig.ModelFiles files;
    private final String arch;
    private final String size;
    private final double loadAverage = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    private List<BoundSweep.BoundResult> sweep;
    private String sweepNote;

    /** @param peers arms outside the job (transformers), in the table and the ratios but not beside the simulators */
    public BenchReport(List<BenchArm> arms, List<PeerArm> peers, long sloMs, String task, int numRequests, int numRounds, boolean bulk,
                double offeredPerSecond, long seed, LocalRig.ModelFiles files, String arch, String size) {
        this.arms = arms;
        this.peers = List.copyOf(peers);
        this.sloMs = sloMs;
        this.task = task;
        this.numRequests = numRequests;
        this.numRounds = numRounds;
        this.bulk = bulk;
        this.offeredPerSecond = offeredPerSecond;
        this.seed = seed;
        this.files = files;
        this.arch = arch;
        this.size = size;
    }

    /** bench --sweep: the results per bound, printed and written instead of one SLO's ratios. */
    public BenchReport withSweep(List<BoundSweep.BoundResult> results, String note) {
        this.sweep = List.copyOf(results);
        this.sweepNote = note;
        return this;
    }

    static final List<String> FIDELITY_HEADER = List.of("policy", "meas req/s", "XSim", "err", "event", "err",
            "meas p99 ms from arrival", "event", "err", "meas bound-len ms from encode start", "XSim", "err");

    /** The verdict's clock: from encode start under bulk arrivals, else from arrival. */
    Arrivals arrivals() {
        return bulk ? Arrivals.BULK : Arrivals.OPEN;
    }

    /** One run per policy, every round of it; the peers after the job's arms. */
    List<ReportInput.Run> runs() {
        List<ReportInput.Run> runs = new ArrayList<>(arms.stream()
                .map(a -> new ReportInput.Run(a.tableLabel(), a.rounds.stream().flatMap(List::stream).toList())).toList());
        for (PeerArm p : peers) runs.add(new ReportInput.Run(p.tableLabel(), p.rounds.stream().flatMap(List::stream).toList()));
        return runs;
    }

    /** Every arm but ExeGPT's, by name, with its measured figures: the job's arms, then the peers. */
    private Map<String, BenchFigures> others() {
        Map<String, BenchFigures> out = new LinkedHashMap<>();
        for (BenchArm a : arms.subList(1, arms.size())) out.put(a.name, a.measured);
        for (PeerArm p : peers) out.put(p.name, p.measured);
        return out;
    }

    /** The bench's table: the same on the console and in bench.html. */
    ReportInput.Table benchTable() {
        return BenchReportInput.table(runs(), arrivals());
    }

    /** XSimulator's throughput is at saturation; under Poisson arrivals at rate R it predicts min(R, that). */
    double xsimThroughput(BenchArm a) {
        return bulk ? a.estimate.sequencesPerSecond() : Math.min(offeredPerSecond, a.estimate.sequencesPerSecond());
    }

    List<List<String>> fidelityRows() {
        List<List<String>> rows = new ArrayList<>();
        for (BenchArm a : arms) {
            BenchFigures m = a.measured;
            rows.add(List.of(a.name, f2(m.completionsPerSecond()), f2(xsimThroughput(a)), pct(xsimThroughput(a), m.completionsPerSecond()),
                    f2(a.event.completionsPerSecond()), pct(a.event.completionsPerSecond(), m.completionsPerSecond()),
                    f0(m.p99EndToEndMs()), f0(a.event.p99E2eMs()), pct(a.event.p99E2eMs(), m.p99EndToEndMs()),
                    f0(m.boundLengthServiceMs()), f0(a.estimate.latencyMs()), pct(a.estimate.latencyMs(), m.boundLengthServiceMs())));
        }
        return rows;
    }

    String benchCaption() {
        return String.format(Locale.ROOT, "%s-%s, task %s, SLO %s (verdict %s), %d requests x %d rounds per policy, %s,"
                        + " interleaved in %s", arch, size, task, sweep != null ? "per bound (--sweep)" : sloMs + " ms", arrivals().verdict().label(), numRequests, numRounds,
                bulk ? "bulk" : String.format(Locale.ROOT, "Poisson %.2f req/s", offeredPerSecond),
                arms.stream().map(BenchArm::jobKey).distinct().count() == 1 ? "one job"
                        : arms.stream().map(BenchArm::jobKey).distinct().count() + " jobs (one per engine layout)");
    }

    static final String FIDELITY_CAPTION = "simulators from the engine's own profile vs measured; err = predicted / measured - 1;"
            + " req/s = requests / (first arrival to last completion), median of rounds (a run of a few dozen requests has no"
            + " steady state: its fill and drain count, and the event simulator runs the same requests);"
            + " XSim req/s = min(offered rate, its steady-state throughput at saturation), which a short bulk run, paying fill"
            + " and drain, stays below; meas p99 = p99 latency from arrival, median of rounds; bound-len = worst latency from"
            + " encode start of a request with >= the task's p99 output length - 2 (XSim: its SLA-(b) latency)";

    public void print(PrintStream out) {
        out.println(benchCaption());
        ReportInput.Table bench = benchTable();
        FigureTable.print(out, bench.header(), bench.cells());
        out.println("verdict: SLO attainment " + arrivals().verdict().label() + ": " + arrivals().why());
        out.println("* " + BenchReportInput.THROUGHPUT_NOTE + " " + FigureTable.spanNote());
        if (sweep != null) {
            out.println();
            out.println("Goodput per bound (" + arrivals().verdict().label() + "): " + sweepNote);
            FigureTable.print(out, BoundSweep.header(), BoundSweep.rows(sweep));
        } else {
            out.println(ratios());
        }
        out.printf("load average %.2f (2 cores shared)%n", loadAverage);
        out.println();
        out.println(FIDELITY_CAPTION);
        FigureTable.print(out, FIDELITY_HEADER, fidelityRows());
    }

    String ratios() {
        BenchFigures e = arms.get(0).measured;
        StringBuilder s = new StringBuilder();
        for (Map.Entry<String, BenchFigures> other : others().entrySet()) {
            BenchFigures o = other.getValue();
            s.append(String.format(Locale.ROOT, "ExeGPT / %s: goodput (throughput at equal attainment, SLO %s) %s, raw throughput %.2fx%n",
                    other.getKey(), arrivals().verdict().label(), o.goodputPerSecond() > 0
                            ? String.format(Locale.ROOT, "%.2fx", e.goodputPerSecond() / o.goodputPerSecond())
                            : "n/a (" + other.getKey() + " met no SLO)",
                    e.figures().requestsPerSecond() / o.figures().requestsPerSecond()));
        }
        return s.toString().stripTrailing();
    }

    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, List<List<InferenceResult>>> byName = new LinkedHashMap<>();
        for (BenchArm a : arms) byName.put(a.name, a.rounds);
        for (PeerArm p : peers) byName.put(p.name, p.rounds);
        for (Map.Entry<String, List<List<InferenceResult>>> a : byName.entrySet()) {
            JsonLines.write(dir.resolve("results-" + a.getKey().toLowerCase(Locale.ROOT) + ".jsonl"), InferenceResult.getClassSchema(),
                    a.getValue().stream().flatMap(List::stream).toList());
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(dir.resolve("bench.json").toFile(), toJson(json));
        List<ReportInput.Table> tables = new ArrayList<>();
        List<String> charts = new ArrayList<>();
        if (sweep != null) {
            tables.add(ReportInput.Table.plain("Goodput per latency bound", sweepNote, BoundSweep.header(), BoundSweep.rows(sweep)));
            double[] boundMs = sweep.stream().mapToDouble(r -> r.bound().ms()).toArray();
            Map<String, double[]> goodput = new LinkedHashMap<>();
            for (String policy : BoundSweep.POLICIES) {
                goodput.put(policy, sweep.stream().mapToDouble(r -> r.goodput(policy) == null ? Double.NaN : r.goodput(policy)[0]).toArray());
            }
            charts.add(dev.exegpt.job.report.ReportCharts.boundSweep(sweep.stream().map(r -> r.bound().label()).toList(), boundMs,
                    goodput, "Each point: a policy's goodput (requests within the bound " + arrivals().verdict().label()
                            + " per second of the run), median over rounds, with the policy tuned for that bound; no point:"
                            + " no schedule of the policy meets the bound. Bounds at equal steps, ascending; the rightmost is"
                            + " none (unbounded)."));
        }
        tables.add(ReportInput.Table.plain("Simulators vs measured", FIDELITY_CAPTION + ".", FIDELITY_HEADER, fidelityRows()));
        HtmlReport.write(dir.resolve("bench.html"), BenchReportInput.of(benchCaption() + ".", runs(), arrivals(), tables, charts));
    }

    private Map<String, Object> toJson(ObjectMapper json) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("model", files.model().toString());
        options.put("profile", files.profile().toString());
        options.put("arch", arch);
        options.put("size", size);
        options.put("task", task);
        options.put("sloMs", sloMs);
        options.put("requestsPerPolicyPerRound", numRequests);
        options.put("rounds", numRounds);
        options.put("arrival", bulk ? "bulk" : "poisson");
        options.put("offeredRequestsPerSecond", bulk ? null : offeredPerSecond);
        options.put("seed", seed);
        root.put("options", options);
        root.put("loadAverage", loadAverage);
        root.put("throughputAtEqualAttainment", BenchReportInput.THROUGHPUT_NOTE + " " + FigureTable.spanNote());
        List<Object> policies = new ArrayList<>();
        for (BenchArm a : arms) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("policy", a.name);
            p.put("label", a.label());
            p.put("plannedLayout", a.plannedLayout);
            p.put("executedLayouts", a.executedLayouts());
            p.put("schedule", json.readTree(ScheduleCodec.toJson(a.schedule)));
            p.put("measured", measured(a.measured, a.rounds, a.estimate.boundOutputTokens()));
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("saturationRequestsPerSecond", a.estimate.sequencesPerSecond());
            x.put("requestsPerSecond", xsimThroughput(a));
            x.put("boundLengthLatencyMs", a.estimate.latencyMs());
            x.put("requestsPerSecondErrorPercent", nan(BenchFigures.errorPercent(xsimThroughput(a), a.measured.completionsPerSecond())));
            x.put("boundLengthLatencyErrorPercent", nan(BenchFigures.errorPercent(a.estimate.latencyMs(), a.measured.boundLengthServiceMs())));
            p.put("xsimulator", x);
            Map<String, Object> ev = new LinkedHashMap<>();
            ev.put("requestsPerSecond", a.event.completionsPerSecond());
            ev.put("throughput10to90", a.event.sequencesPerSecond());
            ev.put("endToEndP99Ms", a.event.p99E2eMs());
            ev.put("ttftP99Ms", a.event.p99TtftMs());
            ev.put("meanTpotMs", a.event.meanTpotMs());
            ev.put("requestsPerSecondErrorPercent", nan(BenchFigures.errorPercent(a.event.completionsPerSecond(), a.measured.completionsPerSecond())));
            ev.put("endToEndP99ErrorPercent", nan(BenchFigures.errorPercent(a.event.p99E2eMs(), a.measured.p99EndToEndMs())));
            p.put("eventSimulator", ev);
            policies.add(p);
        }
        int boundOutputTokens = arms.get(0).estimate.boundOutputTokens();
        for (PeerArm peer : peers) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("policy", peer.name);
            p.put("label", peer.label());
            p.put("peer", peer.source);
            p.put("executedLayouts", List.of(TransformersPeer.layout(peer.batch, peer.threads)));
            p.put("batch", peer.batch);
            p.put("batchSweep", peer.sweep);
            p.put("measured", measured(peer.measured, peer.rounds, boundOutputTokens));
            policies.add(p);
        }
        root.put("policies", policies);
        BenchFigures e = arms.get(0).measured;
        Map<String, Object> ratios = new LinkedHashMap<>();
        for (Map.Entry<String, BenchFigures> other : others().entrySet()) {
            BenchFigures o = other.getValue();
            String name = other.getKey().charAt(0) + other.getKey().substring(1).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
            ratios.put("exegptOver" + name + "Goodput", o.goodputPerSecond() > 0 ? e.goodputPerSecond() / o.goodputPerSecond() : null);
            ratios.put("exegptOver" + name + "Throughput", e.pooled().getRequestsPerSecond() / o.pooled().getRequestsPerSecond());
        }
        if (sweep == null) root.put("ratios", ratios);       // with --sweep, the ratios are per bound
        if (sweep != null) {
            Map<String, Object> sw = new LinkedHashMap<>();
            sw.put("note", sweepNote);
            sw.put("bounds", BoundSweep.toJson(sweep));
            root.put("sweep", sw);
        }
        return root;
    }

    /** What was measured for one arm: every figure pooled over its rounds, and each round's. */
    private Map<String, Object> measured(BenchFigures f, List<List<InferenceResult>> rounds, int boundOutputTokens) {
        AuditWindow w = f.pooled();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requestsSent", f.numRequests());
        m.put("requestsAnswered", w.getNumRequests());
        m.put("spanMs", f.spanMs());
        m.put("requestsPerSecond", w.getRequestsPerSecond());
        m.put("outputTokensPerSecond", w.getOutputTokensPerSecond());
        m.put("endToEndP50Ms", w.getEndToEndP50Ms());
        m.put("endToEndP99Ms", w.getEndToEndP99Ms());
        m.put("ttftP50Ms", w.getTtftP50Ms());
        m.put("ttftP99Ms", w.getTtftP99Ms());
        m.put("tpotP50Ms", w.getTpotP50Ms());
        m.put("tpotP99Ms", w.getTpotP99Ms());
        m.put("sloClock", f.clock().label());
        m.put("sloAttainment", f.attainment());
        m.put("sloAttainmentFromArrival", f.figures().fromArrival().attainment());
        m.put("sloAttainmentFromEncodeStart", f.figures().fromEncodeStart().attainment());
        m.put("sloMet", f.numSloMet());
        m.put("goodputRequestsPerSecond", f.goodputPerSecond());
        m.put("meanEncodeBatch", w.getMeanEncodeBatchSize());
        m.put("meanDecodeBatch", w.getMeanDecodeBatchSize());
        m.put("throughput10to90MedianOfRounds", f.throughput10to90());
        m.put("completionsPerSecondMedianOfRounds", f.completionsPerSecond());
        m.put("endToEndP99MsMedianOfRounds", f.p99EndToEndMs());
        m.put("boundLengthServiceMs", nan(f.boundLengthServiceMs()));
        List<Object> perRound = new ArrayList<>();
        for (List<InferenceResult> round : rounds) {
            BenchFigures r = BenchFigures.of(List.of(round), round.size(), boundOutputTokens, arrivals().verdict());
            perRound.add(Map.of("requestsPerSecond", r.pooled().getRequestsPerSecond(), "throughput10to90", r.throughput10to90(),
                    "completionsPerSecond", r.completionsPerSecond(),
                    "endToEndP99Ms", r.p99EndToEndMs(), "sloAttainment", r.attainment(),
                    "goodputRequestsPerSecond", r.goodputPerSecond()));
        }
        m.put("rounds", perRound);
        return m;
    }

    private static Double nan(double v) {
        return Double.isNaN(v) ? null : v;
    }

    private static String f0(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String f1(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String f2(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String pct(double predicted, double measured) {
        double e = BenchFigures.errorPercent(predicted, measured);
        return Double.isNaN(e) ? "n/a" : String.format(Locale.ROOT, "%+.1f%%", e);
    }
}
