package dev.exegpt.operators.core;

import java.io.IOException;
import java.io.Serializable;

import dev.exegpt.operators.runner.Policies;
import dev.exegpt.schemas.Schedule;
import dev.exegpt.schemas.SchedulePolicy;

/**
 * Decides whether a record on the schedules topic can be adopted by the running job: a schedule is input like any
 * other (DESIGN.md §2), so one the executors cannot run is refused with a reason and the schedule in force stays.
 * Checked: it decodes as a {@link Schedule}; its policy is known and runs on the job's topology (one group per
 * replica for RRA, STATIC and CONTINUOUS; separate encoder and decoder groups for WAA and DISAGGREGATED, which a
 * running job cannot switch between); its sizes are positive and its batches fit the engine's sequence capacity; its
 * version is newer than the one in force. Pure; not thread-safe (it reuses a decoder).
 */
public final class ScheduleValidator {

    /** The dead-letter stage of a refused schedule. */
    public static final String STAGE = "schedule";

    /** Largest schedule record accepted, bytes (a plan with its notes is a few KiB). */
    static final int MAX_SCHEDULE_BYTES = 64 * 1024;

    /** Longest schedule id accepted, characters. */
    static final int MAX_SCHEDULE_ID_CHARS = 256;

    /** Decode iterations per encode beyond which a value is a mistake, not a plan. */
    static final int MAX_DECODE_ITERATIONS_PER_ENCODE = 1 << 20;

    /**
     * What the running job can adopt.
     *
     * @param splitsEncodeAndDecode whether the job runs separate encoder and decoder groups (the start schedule's shape)
     * @param maxSequences          most sequences one engine can hold (its state capacity over the smallest sequence)
     * @param chunkedPrefillRefusal why the job's engines cannot run VLLM_V1 (an encoder-decoder model), or null
     * @param requestsHeld          requests one executor holds at once (the async operator's capacity, fixed when the
     *                              job starts; 0: unknown)
     */
    public record Limits(boolean splitsEncodeAndDecode, int maxSequences, String chunkedPrefillRefusal, int requestsHeld)
            implements Serializable {
        public Limits {
            if (maxSequences < 1) {
                throw new IllegalArgumentException("maxSequences must be >= 1, got " + maxSequences);
            }
        }

        /** Without a known executor capacity. */
        public Limits(boolean splitsEncodeAndDecode, int maxSequences, String chunkedPrefillRefusal) {
            this(splitsEncodeAndDecode, maxSequences, chunkedPrefillRefusal, 0);
        }
    }

    /**
     * What an adopted schedule will not get, or null: batches that need more requests in flight than the job's
     * executors hold (the async capacity is fixed when the job starts, from its start schedule or
     * {@code executor.max.in.flight}), so they run smaller than planned. A warning, not a refusal: the schedule runs.
     */
    public String capacityWarning(Schedule s) {
        int needs = dev.exegpt.scheduler.plan.PolicyRegistry.requestsHeld(s.getEncodeBatchSize(), s.getDecodeBatchSize(),
                s.getMaxNumSeqs());
        if (limits.requestsHeld() <= 0 || needs <= limits.requestsHeld()) {
            return null;
        }
        return "schedule '" + s.getScheduleId() + "' v" + s.getVersion() + " plans batches that need " + needs
                + " requests in flight per executor, but this job's executors hold " + limits.requestsHeld()
                + " (fixed at its start): its batches will be smaller than planned; start the job with"
                + " executor.max.in.flight=" + needs + " or more";
    }

    /** A schedule to adopt, or why not (then {@code schedule} may be null, when the bytes did not decode). */
    public record Checked(Schedule schedule, String reason) {
        public boolean accepted() {
            return reason == null;
        }
    }

    private final Limits limits;
    private final AvroBinary<Schedule> codec = new AvroBinary<>(Schedule.getClassSchema(), 4096);

    public ScheduleValidator(Limits limits) {
        this.limits = limits;
    }

    /** Decodes and checks one record of the schedules topic against the version in force. */
    public Checked check(byte[] value, int versionInForce) {
        if (value == null || value.length == 0) {
            return new Checked(null, "empty record value: expected an Avro Schedule");
        }
        if (value.length > MAX_SCHEDULE_BYTES) {
            return new Checked(null, "a schedule of " + value.length + " bytes: expected at most " + MAX_SCHEDULE_BYTES
                    + " (every result names its schedule)");
        }
        Schedule s;
        try {
            s = codec.decode(value);
        } catch (IOException e) {
            return new Checked(null, "value is not an Avro Schedule (" + e.getMessage() + ")");
        }
        return new Checked(s, problem(s, versionInForce));
    }

    /** Why {@code s} cannot replace the schedule of version {@code versionInForce}; null if it can. */
    public String problem(Schedule s, int versionInForce) {
        String id = s.getScheduleId();
        if (id == null || id.isBlank() || id.length() > MAX_SCHEDULE_ID_CHARS || id.chars().anyMatch(Character::isISOControl)) {
            return "scheduleId '" + Oversize.cut(id, 64) + "' (v" + s.getVersion() + "): expected 1.." + MAX_SCHEDULE_ID_CHARS
                    + " printable characters (results and audit windows carry it)";
        }
        String name = "schedule '" + id + "' v" + s.getVersion() + ": ";
        SchedulePolicy policy = s.getPolicy();
        if (policy == null || policy == SchedulePolicy.UNKNOWN) {
            return name + "policy " + policy + " is not one the executors run: expected one of RRA, WAA_C, WAA_M, STATIC, "
                    + "CONTINUOUS, DISAGGREGATED, VLLM_V0, VLLM_V1";
        }
        if (policy == SchedulePolicy.VLLM_V1 && limits.chunkedPrefillRefusal() != null) {
            return name + limits.chunkedPrefillRefusal();
        }
        if ((policy == SchedulePolicy.VLLM_V0 || policy == SchedulePolicy.VLLM_V1) && (s.getMaxNumBatchedTokens() < 1
                || s.getMaxNumSeqs() < 0 || s.getMaxNumSeqs() > limits.maxSequences())) {
            return name + policy + " needs maxNumBatchedTokens >= 1 and maxNumSeqs in 0.." + limits.maxSequences()
                    + " (0 = encodeBatchSize), got " + s.getMaxNumBatchedTokens() + " and " + s.getMaxNumSeqs();
        }
        if (Policies.splitsEncodeAndDecode(s) != limits.splitsEncodeAndDecode()) {
            return name + "policy " + policy + (limits.splitsEncodeAndDecode()
                    ? " runs encode and decode on one group, but this job runs separate encoder and decoder groups (WAA_C, WAA_M, DISAGGREGATED)"
                    : " needs separate encoder and decoder groups, but this job runs one group per replica (RRA, STATIC, CONTINUOUS, VLLM_V0)")
                    + ": switching between the two needs a restart with the new schedule";
        }
        if (s.getEncodeBatchSize() < 1 || s.getEncodeBatchSize() > limits.maxSequences()) {
            return name + "encodeBatchSize is " + s.getEncodeBatchSize() + ": expected 1.." + limits.maxSequences()
                    + " (the sequences one engine can hold)";
        }
        if (s.getDecodeBatchSize() < 0 || s.getDecodeBatchSize() > limits.maxSequences()) {
            return name + "decodeBatchSize is " + s.getDecodeBatchSize() + ": expected 0.." + limits.maxSequences()
                    + " (the sequences one engine can hold)";
        }
        if (s.getDecodeMicroBatchSize() < 0 || s.getDecodeMicroBatchSize() > limits.maxSequences()) {
            return name + "decodeMicroBatchSize is " + s.getDecodeMicroBatchSize() + ": expected 0.." + limits.maxSequences();
        }
        if (s.getDecodeIterationsPerEncode() < 0 || s.getDecodeIterationsPerEncode() > MAX_DECODE_ITERATIONS_PER_ENCODE) {
            return name + "decodeIterationsPerEncode is " + s.getDecodeIterationsPerEncode() + ": expected 0.."
                    + MAX_DECODE_ITERATIONS_PER_ENCODE;
        }
        if (policy == SchedulePolicy.RRA && s.getDecodeIterationsPerEncode() < 1) {
            return name + "decodeIterationsPerEncode is " + s.getDecodeIterationsPerEncode() + ": RRA needs at least 1";
        }
        if (s.getNumReplicas() < 1) {
            return name + "numReplicas is " + s.getNumReplicas() + ": expected at least 1";
        }
        if (s.getTpDegree() < 1 || Integer.bitCount(s.getTpDegree()) != 1) {
            return name + "tpDegree is " + s.getTpDegree() + ": expected a power of two >= 1";
        }
        if (s.getVersion() <= versionInForce) {
            return name + "version " + s.getVersion() + " is not newer than v" + versionInForce + ", the one in force: "
                    + "publish a higher version to replace it";
        }
        return null;
    }
}
