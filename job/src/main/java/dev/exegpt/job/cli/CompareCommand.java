package dev.exegpt.job.cli;

import dev.exegpt.scheduler.search.Baselines;
import dev.exegpt.scheduler.search.PaperComparison;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.XSimulator;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code exegpt compare}: ExeGPT against STATIC, CONTINUOUS (Orca), DISAGGREGATED and vLLM (V0 and V1) at the same
 * bound, each baseline with its best knobs for the bound, and the extended planner (the paper's space plus the
 * chunked-prefill family).
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Compare ExeGPT with STATIC (FasterTransformer), CONTINUOUS (Orca), DISAGGREGATED (DistServe) and vLLM "
                + "V0/V1 (budgeted prompt batching / chunked prefill) at one bound, or run the paper's evaluation with --paper.")
final class CompareCommand implements Callable<Integer> {
    @Mixin ScenarioOptions scenario;

    @Option(names = "--slo-ms", paramLabel = "MS", description = "Latency bound, ms (or inf).")
    String sloMs;

    @Option(names = "--paper", description = "The paper's 18 model/task scenarios x 4 bounds on the analytic model, with its reported ratios.")
    boolean paper;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        if (paper) {
            if (scenario.anyGiven() || sloMs != null) throw new CliErrors.UserError("--paper takes no scenario flags or --slo-ms", 2);
            paper(w);
        } else {
            if (sloMs == null) throw new CliErrors.UserError("--slo-ms is required unless --paper is given", 2);
            one(w, ScenarioOptions.latencyBoundMs("--slo-ms", sloMs));
        }
        w.flush();
        return 0;
    }

    private void one(PrintWriter w, double bound) {
        XSimulator x = new XSimulator(scenario.scenario());
        Plan p = new XScheduler(x).plan(bound, XScheduler.PAPER_POLICIES);
        Plan extended = new XScheduler(x).plan(bound, XScheduler.ALL_POLICIES);
        Estimate st = Baselines.best(x, Policy.STATIC, bound);
        w.printf("%s on %s, task %s, L_B %s%n", x.scenario().model().name(), scenario.hardwareName(), x.scenario().workload().name(),
                Double.isInfinite(bound) ? "none" : "%.0f ms".formatted(bound));
        w.printf("%-14s %-58s %10s %12s %9s%n", "system", "schedule", "seq/s", "latency ms", "vs STATIC");
        row(w, "ExeGPT", p.feasible() ? p.best() : null, st, p.feasible() ? "" : p.runnerUpNote());
        row(w, "STATIC", st, st, "");
        row(w, "ORCA", Baselines.best(x, Policy.CONTINUOUS, bound), st, "");
        row(w, "DISAGGREGATED", Baselines.best(x, Policy.DISAGGREGATED, bound), st, "");
        row(w, "vLLM-V0", Baselines.best(x, Policy.VLLM_V0, bound), st, "");
        row(w, "vLLM-V1", Baselines.best(x, Policy.VLLM_V1, bound), st,
                x.scenario().model().encoderDecoder() ? "(decoder-only models only)" : "");
        row(w, "ExeGPT+chunked", extended.feasible() ? extended.best() : null, st, "");
        if (extended.feasible()) w.printf("extended planner: %s%n", extended.familyNote());
        w.printf("(STATIC latency is for the maximum output length, %d tokens; the others for the p99 length, %d)%n",
                x.scenario().workload().maxOutputTokens(), x.scenario().workload().boundOutputTokens());
    }

    private static void row(PrintWriter w, String name, Estimate e, Estimate st, String note) {
        if (e == null) {
            w.printf("%-14s %-58s %10s %12s %9s %s%n", name, "NS (no schedule meets the bound)", "-", "-", "-", note);
            return;
        }
        w.printf("%-14s %-58s %10.2f %12.0f %9s%n", name, e.candidate().describe(), e.sequencesPerSecond(), e.latencyMs(),
                st == null ? "-" : "%.2fx".formatted(e.sequencesPerSecond() / st.sequencesPerSecond()));
    }

    private static void paper(PrintWriter w) {
        long start = System.nanoTime();
        List<PaperComparison.Row> rows = PaperComparison.run();
        table(w, rows);
        double[] s = PaperComparison.summary(rows);
        w.printf("%nExeGPT / STATIC throughput at equal bounds     ours     paper%n");
        w.printf("  mean, small and mid models (S, T, C1)     %6.2fx   %5.1fx%n", s[0], PaperComparison.PAPER_SMALL_MID);
        w.printf("  mean, large models (G, C1, C2)            %6.2fx   %5.1fx%n", s[1], PaperComparison.PAPER_LARGE);
        w.printf("  mean, all scenarios                       %6.2fx   %5.1fx%n", s[2], PaperComparison.PAPER_OVERALL);
        w.printf("  maximum                                   %6.2fx   %5.1fx%n", s[3], PaperComparison.PAPER_MAX);
        w.printf("(%d cells; analytic roofline costs, calibrated on A100; bounds = STATIC's p10/p30/p70 latency over a batch sweep in multiples of 4, and inf)%n",
                rows.size());
        vllmSummary(w, rows);
        w.println();
        List<PaperComparison.Row> real = PaperComparison.runRealWorld();
        w.printf("Real-data tasks (paper Fig. 10 used WMT, CNN/DailyMail, Alpaca; conversation = Azure trace stands in for Alpaca):%n");
        table(w, real);
        double[] r = PaperComparison.summary(real);
        w.printf("%n  mean, real-data tasks                     %6.2fx   %5.1fx%n", r[2], PaperComparison.PAPER_REAL_MEAN);
        w.printf("  maximum                                   %6.2fx   %5.1fx%n", r[3], PaperComparison.PAPER_REAL_MAX);
        vllmSummary(w, real);
        w.printf("(%d cells; bounds = STATIC's p30/p70 and inf; %.1f s in all)%n", real.size(), (System.nanoTime() - start) / 1e9);
    }

    /**
     * ExeGPT against the stronger vLLM and the extended planner against the paper's, with the cells each family
     * wins in the extended search.
     */
    private static void vllmSummary(PrintWriter w, List<PaperComparison.Row> rows) {
        double[] v = PaperComparison.vllmSummary(rows);
        w.printf("  ExeGPT / best vLLM (V1, or V0 where V1 does not apply or serves less): mean %.2fx, range %.2f-%.2fx%n",
                v[0], v[1], v[2]);
        w.printf("  extended planner (RRA, WAA, chunked prefill; prompt batching for T5) / paper's space: mean %.3fx, max %.2fx%n",
                v[3], v[4]);
        java.util.Map<String, List<String>> wins = new java.util.TreeMap<>();
        for (PaperComparison.Row r : rows) {
            if (!r.extended().feasible()) continue;
            wins.computeIfAbsent(XScheduler.family(r.extended().best().candidate().policy()), k -> new java.util.ArrayList<>())
                    .add(r.setup().model() + "/" + r.task() + "/" + r.boundLabel());
        }
        for (var e : wins.entrySet()) {
            w.printf("  %-15s wins %2d of %d cells%s%n", e.getKey(), e.getValue().size(), (int) v[6],
                    e.getValue().size() <= 12 ? ": " + String.join(", ", e.getValue()) : "");
        }
    }

    private static void table(PrintWriter w, List<PaperComparison.Row> rows) {
        w.printf("%-10s %-8s %-13s %-5s %9s  %-38s %7s %7s %6s %7s %7s %7s %7s %6s  %-16s %7s%n", "model", "cluster", "task",
                "bound", "L_B ms", "ExeGPT schedule", "seq/s", "STATIC", "ratio", "ORCA", "DISAGG", "vLLM-V0", "vLLM-V1",
                "/vLLM", "extended pick", "seq/s");
        for (PaperComparison.Row r : rows) {
            w.printf("%-10s %-8s %-13s %-5s %9s  %-38s %7s %7s %6s %7s %7s %7s %7s %6s  %-16s %7s%n", r.setup().model(),
                    r.setup().hardware(), r.task(),
                    r.boundLabel(), Double.isInfinite(r.boundMs()) ? "inf" : "%.0f".formatted(r.boundMs()),
                    r.exegpt().feasible() ? r.exegpt().best().candidate().describe() : "NS",
                    r.exegpt().feasible() ? "%.2f".formatted(r.exegpt().best().sequencesPerSecond()) : "-",
                    fmt(r.staticBest()), Double.isNaN(r.ratio()) ? "-" : "%.2fx".formatted(r.ratio()),
                    fmt(r.continuousBest()), fmt(r.disaggregatedBest()), fmt(r.vllmV0Best()),
                    r.setup().model().startsWith("t5") ? "n/a" : fmt(r.vllmV1Best()),
                    Double.isNaN(r.ratioOverVllm()) ? "-" : "%.2fx".formatted(r.ratioOverVllm()),
                    r.extended().feasible() ? XScheduler.family(r.extended().best().candidate().policy()) : "NS",
                    r.extended().feasible() ? "%.2f".formatted(r.extended().best().sequencesPerSecond()) : "-");
        }
    }

    private static String fmt(Estimate e) {
        return e == null ? "NS" : "%.2f".formatted(e.sequencesPerSecond());
    }
}
