package dev.exegpt.job.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import java.io.PrintStream;

import dev.exegpt.job.report.SloClock;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.sim.EventSimulator;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.operators.core.RequestLimits;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.search.Baselines;
import dev.exegpt.scheduler.search.PaperComparison;
import dev.exegpt.scheduler.search.PaperComparison.Bound;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * {@code exegpt bench --sweep}: the paper's Figure 6 on the real job. The bounds of the scenario as {@code compare --paper}
 * derives them ({@link PaperComparison#bounds}: STATIC's p10, p30 and p70 latency over its batch sweep, and none), with
 * the tightest bound any ExeGPT schedule meets before them; at each bound ExeGPT (the planner's pick), STATIC (its best
 * batch) and vLLM V0 (its best token budget and sequence cap: the vLLM the job runs, {@code Policies}), each tuned for
 * that bound; every request of a policy's run carries the bound as its own SLO. The figures per bound and policy are
 * goodput (requests within the bound per second of the run) per round, summarised as the median with the range over
 * rounds, and the ratios ExeGPT / STATIC and ExeGPT / vLLM per round.
 */
public final class BoundSweep {

    /** Requests per round: at least this many times the largest decode batch of the sweep's schedules (a steady state). */
    public static final int REQUESTS_PER_DECODE_BATCH = 10;
    public static final int MIN_REQUESTS = 24;
    /** The cap on requests per round (a bound that lets a schedule batch hundreds would need thousands). */
    public static final int MAX_REQUESTS = 120;
    public static final int QUICK_MAX_REQUESTS = 48;
    /**
     * The policies at each bound, in the order they run and print: "vLLM" is the vLLM a user of the model would run
     * ({@link #vllmPolicy}), tuned for the bound.
     */
    public static final List<String> POLICIES = List.of("ExeGPT", "STATIC", "vLLM");

    /**
     * The vLLM a user of the model would run: V1 (chunked prefill) for a decoder-only model, V0 (budgeted prompt
     * batching) for an encoder-decoder one, which V1 dropped.
     */
    public static Policy vllmPolicy(XSimulator x) {
        return x.scenario().model().encoderDecoder() ? Policy.VLLM_V0 : Policy.VLLM_V1;
    }
    /** The request SLO that stands for "no bound": the largest the job accepts. */
    public static final long UNBOUNDED_SLO_MS = RequestLimits.DEFAULT_MAX_SLO_LATENCY_MS;

    private BoundSweep() {}

    /** Multiples of the tightest bound swept beside the paper's: 4x is the plain bench's auto SLO. */
    public static final int[] TIGHTEST_MULTIPLES = {2, 4};

    /**
     * The sweep's bounds, ascending: "tightest" (the latency of the fastest schedule the planner finds over
     * {@code policies}, rounded up to the ms, so that it is feasible), 2x and 4x that ("2x-tightest", "4x-tightest": on
     * a CPU, where STATIC's batch sweep runs to B=1024, its p10 can lie far above where the policies differ), then the
     * paper's ({@link PaperComparison#bounds}).
     */
    public static List<Bound> bounds(XSimulator x, List<Policy> policies) {
        Estimate fastest = new XScheduler(x).plan(Double.POSITIVE_INFINITY, policies).fastest();
        List<Bound> out = new ArrayList<>();
        if (fastest != null) {
            double tightest = Math.ceil(fastest.latencyMs());
            out.add(new Bound("tightest", tightest));
            for (int k : TIGHTEST_MULTIPLES) out.add(new Bound(k + "x-tightest", k * tightest));
        }
        out.addAll(PaperComparison.bounds(x, PaperComparison.PAPER_QUANTILES, PaperComparison.PAPER_QUANTILE_NAMES));
        out.sort(java.util.Comparator.comparingDouble(Bound::ms));
        return out;
    }

    /** The SLO every request of a run at {@code bound} carries, ms. */
    public static long requestSloMs(Bound bound) {
        return Double.isInfinite(bound.ms()) ? UNBOUNDED_SLO_MS : (long) Math.ceil(bound.ms());
    }

    /**
     * Requests per round: {@value #REQUESTS_PER_DECODE_BATCH} x the largest decode batch (B_D) of the schedules, at least
     * {@value #MIN_REQUESTS}, at most {@code cap}.
     */
    public static int requestsPerRound(List<Schedule> schedules, int cap) {
        int maxDecode = schedules.stream().mapToInt(s -> Math.max(s.getDecodeBatchSize(), s.getEncodeBatchSize())).max().orElse(1);
        return Math.max(MIN_REQUESTS, Math.min(cap, REQUESTS_PER_DECODE_BATCH * maxDecode));
    }

    /** The policies' best estimates at {@code bound}, by name ({@link #POLICIES}); a policy with none that meets it is absent. */
    public static Map<String, Estimate> plan(XSimulator x, List<Policy> policies, Bound bound) {
        Map<String, Estimate> out = new LinkedHashMap<>();
        Plan p = new XScheduler(x).plan(bound.ms(), policies);
        if (p.feasible()) out.put("ExeGPT", p.best());
        Estimate fixed = Baselines.best(x, Policy.STATIC, bound.ms());
        if (fixed != null) out.put("STATIC", fixed);
        Estimate vllm = Baselines.best(x, vllmPolicy(x), bound.ms());
        if (vllm != null) out.put("vLLM", vllm);
        return out;
    }

    /** The sweep as planned: its bounds, one arm per bound and policy with a schedule, and the requests per round. */
    public record Planned(List<Bound> bounds, List<BenchArm> arms, int requestsPerRound) {}

    /**
     * Plans every bound's policies ({@link #plan}), each arm's schedule carrying its bound as the SLO, the requests per
     * round ({@code givenRequests}, else {@link #requestsPerRound} with {@code cap}) and each arm's event-simulator run of
     * them; prints one line per bound.
     */
    public static Planned planArms(PrintStream out, XSimulator x, List<Policy> policies, ScheduleCodec.Origin origin,
                                   Integer givenRequests, int cap, long seed) {
        List<Bound> bounds = bounds(x, policies);
        List<Map.Entry<String, Estimate>> planned = new ArrayList<>();
        List<Long> slos = new ArrayList<>();
        List<Schedule> schedules = new ArrayList<>();
        for (Bound b : bounds) {
            Map<String, Estimate> byPolicy = plan(x, policies, b);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  bound %-8s %8s:", b.label(),
                    Double.isInfinite(b.ms()) ? "none" : String.format(Locale.ROOT, "%.0f ms", b.ms())));
            for (String policy : POLICIES) {
                Estimate e = byPolicy.get(policy);
                line.append(e == null ? " " + policy + " NS (no schedule meets it);"
                        : String.format(Locale.ROOT, " %s %s %.2f req/s;", policy, e.candidate().describe()
                                .replaceAll(" TP=1x[01]$| TP=1 PP=1$", ""), e.sequencesPerSecond()));
                if (e == null) continue;
                String name = armName(policy, b);
                planned.add(Map.entry(name, e));
                slos.add(requestSloMs(b));
                schedules.add(ScheduleCodec.fromEstimate(e, origin, requestSloMs(b), Map.of("bench", name)));
            }
            out.println(line.toString().replaceAll(";$", ""));
        }
        int n = givenRequests != null ? givenRequests : requestsPerRound(schedules, cap);
        EventSimulator events = new EventSimulator(x);
        List<BenchArm> arms = new ArrayList<>();
        for (int i = 0; i < planned.size(); i++) {
            Estimate e = planned.get(i).getValue();
            BenchArm arm = new BenchArm(planned.get(i).getKey(), e, schedules.get(i), events.run(e.candidate(), n, seed,
                    new ArrivalProcess.Bulk()), x);
            arm.requestSloMs = slos.get(i);
            arms.add(arm);
        }
        return new Planned(bounds, arms, n);
    }

    /** An arm's name in the sweep: policy and bound, e.g. "ExeGPT@p30". */
    public static String armName(String policy, Bound bound) {
        return policy + "@" + bound.label();
    }

    /** What one bound measured: each policy's goodput per round (requests within the bound per second of the round). */
    public record BoundResult(Bound bound, Map<String, double[]> goodputPerRound, Map<String, double[]> attainmentPerRound,
                              Map<String, String> labels) {

        /** The policy's goodput over the rounds: {median, min, max}; null where the policy had no schedule. */
        public double[] goodput(String policy) {
            return summary(goodputPerRound.get(policy));
        }

        /** ExeGPT over {@code other}, round by round (the same round's runs): {median, min, max}; null where either is missing. */
        public double[] ratio(String other) {
            double[] e = goodputPerRound.get("ExeGPT"), o = goodputPerRound.get(other);
            if (e == null || o == null) return null;
            double[] r = new double[Math.min(e.length, o.length)];
            for (int k = 0; k < r.length; k++) r[k] = o[k] > 0 ? e[k] / o[k] : Double.POSITIVE_INFINITY;
            return summary(r);
        }
    }

    /**
     * The sweep's results from its arms (named by {@link #armName}), each round's goodput on {@code clock} against the
     * SLO its requests carried.
     */
    public static List<BoundResult> results(List<Bound> bounds, List<BenchArm> arms, int boundOutputTokens, SloClock clock) {
        List<BoundResult> out = new ArrayList<>();
        for (Bound b : bounds) {
            Map<String, double[]> goodput = new LinkedHashMap<>();
            Map<String, double[]> attainment = new LinkedHashMap<>();
            Map<String, String> labels = new LinkedHashMap<>();
            for (String policy : POLICIES) {
                BenchArm a = arms.stream().filter(x -> x.name.equals(armName(policy, b))).findFirst().orElse(null);
                if (a == null || a.rounds.isEmpty()) continue;
                double[] g = new double[a.rounds.size()];
                double[] att = new double[a.rounds.size()];
                for (int k = 0; k < g.length; k++) {
                    List<InferenceResult> round = a.rounds.get(k);
                    BenchFigures f = BenchFigures.of(List.of(round), round.size(), boundOutputTokens, clock);
                    g[k] = f.goodputPerSecond();
                    att[k] = f.attainment();
                }
                goodput.put(policy, g);
                attainment.put(policy, att);
                labels.put(policy, a.label());
            }
            out.add(new BoundResult(b, goodput, attainment, labels));
        }
        return out;
    }

    static final List<String> HEADER = List.of("bound", "ms", "ExeGPT goodput req/s", "STATIC", "vLLM", "ExeGPT / STATIC",
            "ExeGPT / vLLM");

    /** The sweep's table: one row per bound; goodput median [min..max] over rounds; ratios round by round. */
    public static List<List<String>> rows(List<BoundResult> results) {
        List<List<String>> rows = new ArrayList<>();
        for (BoundResult r : results) {
            rows.add(List.of(r.bound().label(), Double.isInfinite(r.bound().ms()) ? "none" : String.format(Locale.ROOT, "%.0f", r.bound().ms()),
                    range(r.goodput("ExeGPT"), ""), range(r.goodput("STATIC"), ""), range(r.goodput("vLLM"), ""),
                    range(r.ratio("STATIC"), "x"), range(r.ratio("vLLM"), "x")));
        }
        return rows;
    }

    public static List<String> header() {
        return HEADER;
    }

    /** JSON-ready: per bound, each policy's schedule label, goodput and attainment per round, and the ratios. */
    public static List<Object> toJson(List<BoundResult> results) {
        List<Object> out = new ArrayList<>();
        for (BoundResult r : results) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("bound", r.bound().label());
            b.put("boundMs", Double.isInfinite(r.bound().ms()) ? null : r.bound().ms());
            Map<String, Object> policies = new LinkedHashMap<>();
            for (String p : POLICIES) {
                if (!r.goodputPerRound().containsKey(p)) {
                    policies.put(p, null);          // no schedule meets the bound
                    continue;
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("label", r.labels().get(p));
                m.put("goodputPerRound", r.goodputPerRound().get(p));
                m.put("attainmentPerRound", r.attainmentPerRound().get(p));
                m.put("goodputMedian", r.goodput(p)[0]);
                policies.put(p, m);
            }
            b.put("policies", policies);
            b.put("exegptOverStatic", json(r.ratio("STATIC")));
            b.put("exegptOverVllm", json(r.ratio("vLLM")));
            out.add(b);
        }
        return out;
    }

    /** The note under the table: the rule for requests and what a range is. */
    public static String note(int requestsPerRound, int cap) {
        return String.format(Locale.ROOT, "bounds: tightest = the fastest ExeGPT schedule's latency for a p99-length output,"
                + " and 2x and 4x that; p10/p30/p70 = STATIC's latencies over its batch sweep (as compare --paper); none = unbounded. vLLM:"
                + " V1 (chunked prefill) for a decoder-only model, V0 (budgeted prompt batching) for an encoder-decoder one. Each policy"
                + " tuned for each bound; every request carries the bound as its SLO. %d requests per policy and round (%d x the"
                + " largest decode batch, at least %d, at most %d). Goodput: median [min..max] over rounds; ratios: the same"
                + " round's runs, median [min..max]; n/a: no schedule meets the bound (NS).", requestsPerRound,
                REQUESTS_PER_DECODE_BATCH, MIN_REQUESTS, cap);
    }

    private static Map<String, Double> json(double[] s) {
        if (s == null) return null;
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("median", finite(s[0]));
        m.put("min", finite(s[1]));
        m.put("max", finite(s[2]));
        return m;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** {median, min, max}; null for null. */
    static double[] summary(double[] v) {
        if (v == null || v.length == 0) return null;
        double[] s = v.clone();
        Arrays.sort(s);
        return new double[] {FidelityRun.median(v), s[0], s[s.length - 1]};
    }

    private static String range(double[] s, String unit) {
        if (s == null) return "n/a";
        if (s[1] == s[2]) return fmt(s[0]) + unit;
        return fmt(s[0]) + unit + " [" + fmt(s[1]) + ".." + fmt(s[2]) + "]";
    }

    private static String fmt(double v) {
        return Double.isInfinite(v) ? "inf" : String.format(Locale.ROOT, "%.2f", v);
    }
}
