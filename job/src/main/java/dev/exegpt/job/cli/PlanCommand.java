package dev.exegpt.job.cli;

import dev.exegpt.schemas.Schedule;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.ReplicaPlan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.EventSimulator;
import dev.exegpt.scheduler.sim.SimResult;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.XSimulator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code exegpt plan}: XScheduler's best schedule under a latency bound, and why the runner-up lost. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Find the schedule with the highest throughput whose p99-length request meets --slo-ms (ExeGPT's XScheduler).")
final class PlanCommand implements Callable<Integer> {
    @Mixin ScenarioOptions scenario;

    @Option(names = "--slo-ms", required = true, paramLabel = "MS", description = "Latency bound L_B for a request of the task's p99 output length, ms (or inf).")
    String sloMs;

    @Option(names = {"--policies", "--policy"}, defaultValue = "auto", paramLabel = "auto|LIST",
            description = "Policies to search, comma-separated: rra, waa (both sizings), waa-c, waa-m, chunked (vLLM V1's "
                    + "chunked prefill: token budget and sequence cap; for an encoder-decoder model vLLM V0's prompt batching in its "
                    + "place); paper = rra,waa, the paper's space; auto (default) = all.")
    String policy;

    @Option(names = "--tolerance", defaultValue = "0.05", paramLabel = "F", description = "ε_T and ε_L of the branch-and-bound, as fractions (default 0.05).")
    double tolerance;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the schedule as Avro JSON (dev.exegpt.schemas.Schedule).")
    Path out;

    @Option(names = "--verbose", description = "Print every (policy, TP degree) run.")
    boolean verbose;

    @Option(names = "--check", paramLabel = "N", arity = "0..1", fallbackValue = "5000",
            description = "Re-run the chosen schedule request by request in the discrete-event simulator (N requests, default 5000).")
    Integer checkRequests;

    @Option(names = "--replicas", paramLabel = "N", description = "Data-parallel replicas of the planned device group: prints "
            + "the whole deployment (throughput, partitions per replica, WAA KV hand-off per TaskManager, checkpoint size) "
            + "and which part saturates first.")
    Integer replicas;

    @Option(names = "--partitions", paramLabel = "P", description = "With --replicas: partitions of the requests and results topics (default: one per replica).")
    Integer partitions;

    @Option(names = "--nic-gbit", defaultValue = "100", paramLabel = "GBIT", description = "With --replicas: a TaskManager's NIC, Gb/s (default ${DEFAULT-VALUE}).")
    double nicGbit;

    @Option(names = "--partition-mb-per-s", defaultValue = "10", paramLabel = "MB", description = "With --replicas: what one Kafka partition sustains, MB/s (default ${DEFAULT-VALUE}).")
    double partitionMbPerSecond;

    @Option(names = "--checkpoint-gb-per-s", defaultValue = "2", paramLabel = "GB", description = "With --replicas: what the checkpoint storage absorbs, GB/s (default ${DEFAULT-VALUE}).")
    double checkpointGbPerSecond;

    @Spec CommandSpec spec;

    static List<Policy> policies(String flag) {
        java.util.LinkedHashSet<Policy> out = new java.util.LinkedHashSet<>();
        for (String part : flag.split(",")) {
            out.addAll(switch (part.trim().toLowerCase(Locale.ROOT)) {
                case "auto", "all" -> XScheduler.ALL_POLICIES;
                case "paper" -> XScheduler.PAPER_POLICIES;
                case "rra" -> List.of(Policy.RRA);
                case "waa-c", "waa_c" -> List.of(Policy.WAA_C);
                case "waa-m", "waa_m" -> List.of(Policy.WAA_M);
                case "waa" -> List.of(Policy.WAA_C, Policy.WAA_M);
                case "chunked", "chunked-prefill", "vllm-v1", "vllm_v1" -> List.of(Policy.VLLM_V1);
                default -> throw new CliErrors.UserError(("--policies=%s: expected auto, paper or a comma-separated list of "
                        + "rra, waa, waa-c, waa-m, chunked").formatted(flag), 2);
            });
        }
        return List.copyOf(out);
    }

    @Override
    public Integer call() throws IOException {
        double bound = ScenarioOptions.latencyBoundMs("--slo-ms", sloMs);
        if (!(tolerance >= 0 && tolerance < 1)) throw new CliErrors.UserError("--tolerance=%s: expected a fraction in [0, 1)".formatted(tolerance), 2);
        List<Policy> policies = policies(policy);
        Scenario sc = scenario.scenario();
        Plan p = new XScheduler(new XSimulator(sc), tolerance, tolerance).plan(bound, policies);
        PrintWriter w = spec.commandLine().getOut();
        w.printf("scenario: %s on %s (%s), task %s (p99 output %d tokens), L_B %s%n", sc.model().name(),
                scenario.hardwareName().isEmpty() ? sc.numDevices() + " device(s)" : scenario.hardwareName(), sc.cost().describe(),
                sc.workload().name(), sc.workload().boundOutputTokens(), bound == Double.POSITIVE_INFINITY ? "none" : "%.0f ms".formatted(bound));
        if (verbose) {
            for (Plan.RunSummary r : p.runs()) {
                w.printf("  run %-6s TP degree %d: %4d simulated, %s%n", r.policy(), r.tpDegree(), r.numSimulated(),
                        r.best() == null ? "nothing meets the bound" : describe(r.best()));
            }
        }
        if (!p.feasible()) {
            throw new CliErrors.UserError("no schedule meets --slo-ms=%s: %s".formatted(sloMs, p.runnerUpNote()));
        }
        Estimate b = p.best();
        w.printf("schedule: %s%n", b.candidate().describe());
        w.printf("predicted: %.2f seq/s (%.0f tokens/s), latency %.0f ms for a %d-token output, decode batch %d, peak memory %.1f GiB per device%s%n",
                b.sequencesPerSecond(), b.tokensPerSecond(), b.latencyMs(), b.boundOutputTokens(), b.decodeBatchSize(),
                b.peakMemoryBytes() / 1073741824.0,
                b.numEncoderDevices() > 0 ? ", %d encoder + %d decoder devices".formatted(b.numEncoderDevices(), b.numDecoderDevices()) : "");
        w.printf("search: %d candidates simulated in %.0f ms; binding constraint: %s%n", p.numSimulated(), p.searchTimeMs(), p.bindingConstraint());
        w.printf("%s%n", p.runnerUpNote());
        w.printf("%s%n", p.familyNote());
        if (checkRequests != null) {
            if (checkRequests < 100) throw new CliErrors.UserError("--check=%d: expected at least 100 requests".formatted(checkRequests), 2);
            SimResult r = new EventSimulator(new XSimulator(sc)).run(b.candidate(), checkRequests, 42, new ArrivalProcess.Bulk());
            boolean ok = !(r.boundLengthLatencyMs() >= bound);
            w.printf("check (discrete-event, %d requests): %.2f seq/s (%+.1f%%), %d-token latency %.0f ms (%+.1f%%)%s%n",
                    checkRequests, r.sequencesPerSecond(), 100 * (r.sequencesPerSecond() / b.sequencesPerSecond() - 1),
                    b.boundOutputTokens(), r.boundLengthLatencyMs(), 100 * (r.boundLengthLatencyMs() / b.latencyMs() - 1),
                    ok ? "" : " -- EXCEEDS the bound in the event run");
        }
        if (replicas != null) {
            printReplicas(w, sc, b);
        }
        if (out != null) {
            Schedule s = ScheduleCodec.fromPlan(p, new ScheduleCodec.Origin(scenario.modelName(), scenario.hardwareName(),
                    sc.workload().name(), System.currentTimeMillis()));
            if (replicas != null) {
                s = Schedule.newBuilder(s).setNumReplicas(replicas).build();
            }
            ScheduleCodec.write(s, out);
            w.printf("wrote %s%n", out);
        }
        w.flush();
        return 0;
    }

    private void printReplicas(PrintWriter w, Scenario sc, Estimate b) {
        if (replicas < 1) throw new CliErrors.UserError("--replicas=%d: expected at least 1".formatted(replicas), 2);
        int numPartitions = partitions == null ? replicas : partitions;
        if (numPartitions < 1) throw new CliErrors.UserError("--partitions=%d: expected at least 1".formatted(numPartitions), 2);
        if (!(nicGbit > 0) || !(partitionMbPerSecond > 0) || !(checkpointGbPerSecond > 0)) {
            throw new CliErrors.UserError("--nic-gbit, --partition-mb-per-s and --checkpoint-gb-per-s must be positive", 2);
        }
        ReplicaPlan.Limits d = ReplicaPlan.Limits.DEFAULTS;
        ReplicaPlan.Limits limits = new ReplicaPlan.Limits(partitionMbPerSecond * 1e6, nicGbit * 1e9 / 8, checkpointGbPerSecond * 1e9,
                d.checkpointIntervalMs(), d.dedupRememberMs(), d.dedupEntryBytes(), d.promptBytesPerToken(), d.resultBytesPerToken(),
                d.recordOverheadBytes());
        ReplicaPlan r = new ReplicaPlan(b, sc.model(), sc.workload(), sc.devicesPerNode(), replicas, numPartitions, limits);
        w.printf("replicas: %d x %d devices = %d devices; %.0f requests/s (%.0f tokens/s), %.2f requests/s per replica%n",
                replicas, r.numDevicesPerReplica(), r.numDevices(), r.requestsPerSecond(), r.tokensPerSecond(), b.sequencesPerSecond());
        w.printf("kafka: %d partitions, %.2f per replica; %.1f requests/s and %.2f MB/s per partition (request %.0f B, result %.0f B)%n",
                numPartitions, r.partitionsPerReplica(), r.requestsPerSecond() / numPartitions, r.partitionBytesPerSecond() / 1e6,
                r.requestBytes(), r.resultBytes());
        if (numPartitions < replicas) {
            w.printf("  note: fewer partitions than replicas; the dispatch operator spreads requests over all replicas, but the sources "
                    + "read with at most %d subtasks%n", numPartitions);
        }
        if (r.handsOverKv()) {
            w.printf("WAA KV hand-off: %.1f MB per request (%d decoder layers x %.0f KB per token x %.0f mean input tokens); "
                            + "%.2f GB/s per TaskManager (%.0f Gb/s NIC)%n", r.kvHandoffBytesPerRequest() / 1e6, sc.model().numDecoderLayers(),
                    sc.model().kvBytesPerTokenPerLayer() / 1e3, sc.workload().meanInputTokens(), r.nicBytesPerSecond() / 1e9, nicGbit);
        } else {
            w.printf("KV hand-off: none (%s keeps encode and decode on the same devices)%n", b.candidate().policy());
        }
        w.printf("checkpoint: %.2f GB every %d ms = %.2f GB/s (in-flight requests %d per replica: %.3f GB; dedup ids for %d s: %.2f GB)%n",
                r.checkpointBytes() / 1e9, limits.checkpointIntervalMs(), r.checkpointBytesPerSecond() / 1e9, r.inFlightPerReplica(),
                r.inFlightStateBytes() / 1e9, limits.dedupRememberMs() / 1000, r.dedupStateBytes() / 1e9);
        for (ReplicaPlan.Load l : r.loads()) {
            w.printf("  %-42s %5.0f%% used at the planned rate; saturates at %.0f requests/s%n", l.part(), 100 * l.utilisation(),
                    l.saturatesAtRequestsPerSecond());
        }
        w.printf("saturates first: %s%n", r.firstToSaturate().part());
    }

    static String describe(Estimate e) {
        return "%s: %.2f seq/s at %.0f ms".formatted(e.candidate().describe(), e.sequencesPerSecond(), e.latencyMs());
    }
}
