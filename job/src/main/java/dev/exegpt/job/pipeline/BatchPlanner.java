package dev.exegpt.job.pipeline;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import dev.exegpt.runtime.profile.ProfileGrid;
import dev.exegpt.runtime.profile.XProfiler;
import dev.exegpt.runtime.tokenizer.BpeTokenizer;
import dev.exegpt.scheduler.avro.ProfileCodec;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.cost.DeviceSpec;
import dev.exegpt.scheduler.cost.ModelSpec;
import dev.exegpt.scheduler.cost.ProfiledCostModel;
import dev.exegpt.scheduler.plan.Policy;
import dev.exegpt.scheduler.search.Baselines;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.search.XScheduler;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimOptions;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.Schedule;

/**
 * The offline user's plan: in batch mode the requests are known before the job starts (their prompts' lengths, and
 * their outputs bounded by maxNewTokens), so the schedule is planned from the file itself and the model's profile
 * (made once per model and cached under the state folder, as the demo caches its own) for the latency bound the user
 * gives, or for the highest throughput when none is given (the file then finishes soonest). The planner's memory is
 * the engine's: the weights and the executor's state capacity.
 */
public final class BatchPlanner {

    /**
     * @param schedule the planned schedule, also written to {@code scheduleFile}
     * @param staticBaseline the best STATIC batch for the same bound on the same profile (what a FasterTransformer user
     *                       would run), for comparison
     */
    public record Planned(Schedule schedule, Path scheduleFile, Path profile, Workload workload, int numRequests,
                          int numUnreadable, Estimate staticBaseline) {}

    private BatchPlanner() {}

    /**
     * @param profile            a profile to plan from; null: the cached one of this model (made now if missing)
     * @param latencyBoundMs     the bound of a p99-length output; infinite: none (highest throughput)
     * @param kvCacheBytes       the executor's state capacity (executor.kv.cache.mib)
     * @param policies           what to search
     * @param out                progress and the plan
     */
    public static Planned plan(Path input, Path modelDir, Path stateDir, Path profile, double latencyBoundMs, long kvCacheBytes,
                               List<Policy> policies, PrintStream out) throws Exception {
        BpeTokenizer tokenizer = BpeTokenizer.load(modelDir);
        List<Integer> inputs = new ArrayList<>();
        List<Integer> outputs = new ArrayList<>();
        int unreadable = 0;
        try (Stream<String> lines = Files.lines(input)) {
            for (String line : (Iterable<String>) lines.filter(l -> !l.isBlank())::iterator) {
                try {
                    InferenceRequest r = RequestJson.parse(line);
                    int n = r.getPromptTokenIds() != null && !r.getPromptTokenIds().isEmpty() ? r.getPromptTokenIds().size()
                            : tokenizer.encode(r.getPromptText() == null ? "" : r.getPromptText()).length;
                    inputs.add(Math.max(1, n));
                    outputs.add(Math.max(1, r.getMaxNewTokens()));
                } catch (RuntimeException e) {
                    unreadable++;              // the job answers it with a dead letter; the plan is made from the rest
                }
            }
        }
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException(input + ": no request to plan for (" + unreadable + " unreadable line(s))");
        }
        Workload workload = Workloads.fromSamples(input.getFileName().toString(), ints(inputs), ints(outputs));
        Path profileFile = profile != null ? profile : cachedProfile(modelDir, stateDir, out);
        Profile p = ProfileCodec.readProfile(profileFile);
        Profile engineSized = Profile.newBuilder(p).setDeviceMemoryBytes(Math.min(p.getDeviceMemoryBytes(), engineMemory(p, kvCacheBytes)))
                .build();
        DeviceSpec device = DeviceSpec.forDeviceName(p.getDeviceName());
        Scenario scenario = new Scenario(new ProfiledCostModel(ProfileCodec.toTable(engineSized), device), 1, device.devicesPerNode(),
                workload, SimOptions.DEFAULTS);
        XSimulator sim = new XSimulator(scenario);
        Plan plan = new XScheduler(sim).plan(latencyBoundMs, policies);
        if (!plan.feasible()) {
            throw new IllegalArgumentException("no schedule meets the bound for " + input + ": " + plan.runnerUpNote());
        }
        Schedule schedule = ScheduleCodec.fromPlan(plan, new ScheduleCodec.Origin(modelDir.getFileName().toString(), "cpu:1",
                workload.name(), System.currentTimeMillis()));
        Path scheduleFile = Files.createDirectories(stateDir).resolve("schedule-batch-" + safe(workload.name()) + ".json");
        ScheduleCodec.write(schedule, scheduleFile);
        Estimate fixed = Baselines.best(sim, Policy.STATIC, latencyBoundMs);
        out.printf(Locale.ROOT, "batch plan: %d requests of %s (prompts mean %.0f, max %d tokens; output caps mean %.0f, p99 %d)%s%n",
                inputs.size(), input, workload.meanInputTokens(), workload.input().max(), workload.meanOutputTokens(),
                workload.boundOutputTokens(), unreadable > 0 ? "; " + unreadable + " unreadable line(s) left to the job's dead letters" : "");
        out.printf(Locale.ROOT, "  %s on profile %s, %s: predicted %.2f requests/s (%d candidates in %.0f ms)%n",
                plan.best().candidate().describe(), profileFile, Double.isInfinite(latencyBoundMs) ? "no latency bound (highest throughput)"
                        : String.format(Locale.ROOT, "bound %.0f ms for a p99-length output, predicted %.0f ms", latencyBoundMs,
                        plan.best().latencyMs()), plan.best().sequencesPerSecond(), plan.numSimulated(), plan.searchTimeMs());
        if (fixed != null) {
            out.printf(Locale.ROOT, "  best STATIC batch for the same bound: %s, predicted %.2f requests/s (ExeGPT %.2fx)%n",
                    fixed.candidate().describe(), fixed.sequencesPerSecond(), plan.best().sequencesPerSecond() / fixed.sequencesPerSecond());
        }
        return new Planned(schedule, scheduleFile, profileFile, workload, inputs.size(), unreadable, fixed);
    }

    /**
     * The model's profile under {@code stateDir/profiles}, named by the checkpoint folder and a digest of its
     * config.json; XProfiler makes it when it is missing (about a minute for a small model on two cores).
     */
    static Path cachedProfile(Path modelDir, Path stateDir, PrintStream out) throws Exception {
        byte[] config = Files.readAllBytes(modelDir.resolve("config.json"));
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(config)).substring(0, 12);
        Path file = Files.createDirectories(stateDir.resolve("profiles"))
                .resolve("profile-" + safe(modelDir.toAbsolutePath().getFileName().toString()) + "-" + digest + ".json");
        if (!Files.isRegularFile(file)) {
            out.printf("profiling %s once (XProfiler; cached in %s) ...%n", modelDir, file);
            ProfileGrid d = ProfileGrid.DEFAULTS;
            ProfileGrid grid = new ProfileGrid(List.of(1), d.encodeBatchSizes(), d.encodeSeqLengths(), d.maxEncodeTokens(),
                    d.decodeBatchSizes(), d.decodeContextLengths(), 1, 3, d.jitWarmUpMs());
            long t0 = System.nanoTime();
            XProfiler.write(new XProfiler(modelDir, grid, new PrintStream(OutputStream.nullOutputStream())).run(), file);
            out.printf("  profiled in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        }
        return file;
    }

    /**
     * The device memory that makes the planner's memory check the engine's: its weights and the executor's state
     * capacity, in the planner's accounting (16-bit weights and keys/values, ModelSpec.BYTES_PER_PARAM, where the CPU
     * engine holds 32-bit ones: half of the capacity's bytes), over the fraction the planner uses.
     */
    static long engineMemory(Profile p, long kvCacheBytes) {
        ModelSpec m = ProfileCodec.toTable(p).model();
        double plannerBytes = (double) m.totalParams() * ModelSpec.BYTES_PER_PARAM + kvCacheBytes * (ModelSpec.BYTES_PER_PARAM / 4.0);
        return (long) (plannerBytes / SimOptions.DEFAULTS.usableMemoryFraction());
    }

    private static int[] ints(List<Integer> v) {
        return v.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String safe(String name) {
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
