package dev.exegpt.scheduler.avro;

import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;
import dev.exegpt.scheduler.search.Plan;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.plan.PlanArgs;
import dev.exegpt.scheduler.plan.PolicyRegistry;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.plan.Policy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The Avro {@code Schedule} a plan is published as (schedule.json, exegpt.schedules), and back to a candidate. */
public final class ScheduleCodec {
    private ScheduleCodec() {}

    /** Where the schedule came from, for its id and descriptive fields. */
    public record Origin(String modelName, String hardware, String task, long createdEpochMs) {}

    public static Schedule fromEstimate(Estimate e, Origin o, double latencyBoundMs, Map<String, String> notes) {
        Candidate c = e.candidate();
        return Schedule.newBuilder()
                .setScheduleId("%s/%s/%s/%s".formatted(o.modelName(), o.hardware(), o.task(), c.policy().cliName()))
                .setVersion(1).setCreatedEpochMs(o.createdEpochMs())
                .setPolicy(SchedulePolicy.valueOf(c.policy().name()))
                .setModelName(o.modelName()).setHardware(o.hardware()).setTask(o.task())
                .setEncodeBatchSize(c.encodeBatchSize()).setDecodeBatchSize(e.decodeBatchSize())
                .setDecodeMicroBatchSize(c.decodeMicroBatchSize())
                .setDecodeBacklogLimit(PolicyRegistry.splitsEncodeAndDecode(c.policy()) ? e.decodeBacklogLimit() : 0)
                .setDecodeIterationsPerEncode(c.policy() == Policy.RRA ? c.decodeIterationsPerEncode() : 0)
                .setMaxNumBatchedTokens(c.maxNumBatchedTokens())
                .setMaxNumSeqs(c.policy().isVllm() ? c.encodeBatchSize() : 0)
                .setTpDegree(c.tpDegree()).setNumTpDevices(c.numTpDevices()).setNumDevices(c.numDevices())
                .setNumEncoderDevices(e.numEncoderDevices()).setNumDecoderDevices(e.numDecoderDevices())
                .setNumReplicas(1)
                .setLatencyBoundMs(Double.isInfinite(latencyBoundMs) ? null : latencyBoundMs)
                .setBoundOutputTokens(e.boundOutputTokens())
                .setPredictedSequencesPerSecond(e.sequencesPerSecond()).setPredictedTokensPerSecond(e.tokensPerSecond())
                .setPredictedLatencyMs(e.latencyMs())
                .setNotes(new LinkedHashMap<>(notes))
                .build();
    }

    public static Schedule fromPlan(Plan p, Origin o) {
        if (!p.feasible()) throw new IllegalArgumentException("an infeasible plan has no schedule: " + p.runnerUpNote());
        Map<String, String> notes = new LinkedHashMap<>();
        notes.put("runnerUp", p.runnerUpNote());
        notes.put("family", p.familyNote());
        notes.put("schedule", p.best().candidate().describe());
        notes.put("peakMemoryGiB", "%.1f".formatted(p.best().peakMemoryBytes() / 1073741824.0));
        Schedule s = fromEstimate(p.best(), o, p.latencyBoundMs(), notes);
        s.setBindingConstraint(p.bindingConstraint());
        s.setNumCandidatesSimulated(p.numSimulated());
        s.setSearchTimeMs(p.searchTimeMs());
        s.setThroughputTolerance(p.throughputTolerance());
        s.setLatencyTolerance(p.latencyTolerance());
        return s;
    }

    /** The plan policy of a schedule; a schedule without one (the schema's UNKNOWN) is an error that says so. */
    public static Policy policyOf(Schedule s) {
        if (s.getPolicy() == null || s.getPolicy() == SchedulePolicy.UNKNOWN) {
            throw new IllegalArgumentException("schedule %s has no policy".formatted(s.getScheduleId()));
        }
        return Policy.valueOf(s.getPolicy().name());
    }

    /**
     * What a schedule fixes for its executors' batching policies ({@link PolicyRegistry}): the one reading of a
     * schedule that the event simulator and the job's executors share.
     *
     * @param numStages       pipeline stages of the executor's device group (CONTINUOUS admits one prefill per stage)
     * @param meanInputTokens the workload's mean input length (WAA sizes encoder batches by tokens)
     */
    public static PlanArgs planArgs(Schedule s, int numStages, double meanInputTokens) {
        Policy policy = policyOf(s);
        int backlog = s.getDecodeBacklogLimit() > 0 ? s.getDecodeBacklogLimit() : s.getDecodeBatchSize();
        int maxActive = policy.isVllm() ? maxNumSeqs(s)
                : s.getDecodeBatchSize() > 0 ? s.getDecodeBatchSize() : Integer.MAX_VALUE;
        return new PlanArgs(policy, Math.max(1, s.getEncodeBatchSize()), Math.max(1, s.getDecodeIterationsPerEncode()),
                Math.max(1, backlog), maxActive, Math.max(1, numStages), meanInputTokens,
                policy.isVllm() ? s.getMaxNumBatchedTokens() : 0);
    }

    /** vLLM's max_num_seqs: the schedule's field, or its encode batch when the field is unset (0). */
    private static int maxNumSeqs(Schedule s) {
        return Math.max(1, s.getMaxNumSeqs() > 0 ? s.getMaxNumSeqs() : s.getEncodeBatchSize());
    }

    /** The control variables of a schedule; WAA and DISAGGREGATED keep their encoder/decoder split. */
    public static Candidate toCandidate(Schedule s) {
        Policy policy = policyOf(s);
        int encoderDevices = policy.isWaa() || policy == Policy.DISAGGREGATED ? s.getNumEncoderDevices() : 0;
        return new Candidate(policy, s.getNumDevices(), policy.isVllm() ? maxNumSeqs(s) : s.getEncodeBatchSize(),
                Math.max(1, s.getDecodeIterationsPerEncode()), s.getDecodeMicroBatchSize(), s.getTpDegree(), s.getNumTpDevices(),
                encoderDevices, policy.isVllm() ? s.getMaxNumBatchedTokens() : 0);
    }

    public static String toJson(Schedule s) {
        return AvroJson.write(s);
    }

    public static void write(Schedule s, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.writeString(file, toJson(s));
    }

    public static Schedule read(Path file) {
        return AvroJson.read(AvroJson.readFile(file), Schedule.class, Schedule.getClassSchema(), file.toString());
    }
}
