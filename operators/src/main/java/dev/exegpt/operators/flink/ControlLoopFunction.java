package dev.exegpt.operators.flink;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.core.ControlLoops;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.control.ControlLoop;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.ExecutorSteps;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.Schedule;

/**
 * The job's control loop as a Flink function (one subtask, keyed by a constant): the executors' engine steps (the
 * steps topic) and the job's results read back (arrivals, output lengths) go into a {@link ControlLoop}; every
 * second it may decide a new schedule, which is emitted (to the schedules topic, which the job reads back and adopts
 * at a step boundary) with its reason in the schedule's notes. A steps record that does not decode is skipped and
 * counted; none stops the job. The loop's window is not checkpointed: after a restart it measures again.
 */
public class ControlLoopFunction extends KeyedCoProcessFunction<Integer, RawRecord, InferenceResult, Schedule> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ControlLoopFunction.class);
    private static final long TICK_MS = 1_000;
    private static final long SUMMARY_EVERY_MS = 30_000;

    /**
     * @param profileFile the profile the schedule was planned on (XProfiler's JSON)
     * @param sloMs       the latency bound when the schedule has none
     * @param settings    the loop's window and hysteresis
     */
    public record Spec(String profileFile, double sloMs, ControlLoop.Settings settings) implements Serializable {}

    private final Spec spec;
    private final Schedule initial;
    private transient ControlLoop loop;
    private transient AvroBinary<ExecutorSteps> steps;
    private transient Schedule current;
    private transient int newestVersion;
    private transient long lastSummaryMs;
    private transient long skipped;
    private transient boolean timerSet;

    public ControlLoopFunction(Spec spec, Schedule initial) {
        this.spec = spec;
        this.initial = initial;
    }

    @Override
    public void open(OpenContext context) {
        steps = new AvroBinary<>(ExecutorSteps.getClassSchema());
        current = initial;
        newestVersion = initial.getVersion();
        loop = ControlLoops.forRunningJob(Path.of(spec.profileFile()), initial, spec.sloMs(), spec.settings());
        double slo = loop.sloMs();
        Candidate running = loop.running();
        long t0 = System.nanoTime();
        double warm = loop.warmUp(3);
        LOG.info("control loop: planner warmed up in {} ms (a decision's search now takes {} ms)",
                Math.round((System.nanoTime() - t0) / 1e6), Math.round(warm));
        LOG.info("control loop on: schedule {} v{} ({}), SLO {} ms, profile {}; decides at most every {} ms, a change stays {} ms"
                        + " at least; the engines' layout is kept (other batch sizes only)", initial.getScheduleId(), initial.getVersion(),
                running.describe(), Math.round(slo), spec.profileFile(), spec.settings().intervalMs(), spec.settings().minDwellMs());
    }

    /** Whether a schedule's task has a length distribution and its bound is known: what the loop needs to run. */
    public static Optional<String> cannotControl(Schedule s, double sloMs) {
        if (s.getPolicy() == dev.exegpt.schemas.SchedulePolicy.VLLM_V0 || s.getPolicy() == dev.exegpt.schemas.SchedulePolicy.VLLM_V1) {
            return Optional.of("a vLLM schedule (" + s.getPolicy() + ") keeps its token budget and sequence cap: the loop "
                    + "re-plans the batch sizes of ExeGPT's policies and the paper's baselines only");
        }
        try {
            Workloads.byName(s.getTask());
        } catch (RuntimeException e) {
            return Optional.of("the schedule's task " + s.getTask() + " has no length distribution (" + e.getMessage() + ")");
        }
        if (s.getLatencyBoundMs() == null && !(sloMs > 0)) {
            return Optional.of("the schedule has no latency bound and the task no SLO");
        }
        return Optional.empty();
    }

    @Override
    public void processElement1(RawRecord record, Context ctx, Collector<Schedule> out) throws Exception {
        armTimer(ctx);
        ExecutorSteps s;
        try {
            s = steps.decode(record.value());
        } catch (java.io.IOException | RuntimeException e) {
            if (skipped++ == 0) LOG.warn("control loop: a steps record at {} does not decode ({}); skipped", record.position(), e.toString());
            return;
        }
        newestVersion = Math.max(newestVersion, s.getScheduleVersion());
        ControlLoops.observe(loop, s);
    }

    @Override
    public void processElement2(InferenceResult result, Context ctx, Collector<Schedule> out) throws Exception {
        armTimer(ctx);
        if (result.getLatency() != null) loop.arrived(result.getLatency().getArrivedEpochMs());
        if (result.getFinishReason() == FinishReason.DEADLINE || result.getFinishReason() == FinishReason.ERROR) {
            loop.refused();                                 // answered without running: its length is unknown
        } else if (result.getNumOutputTokens() > 0) {
            loop.finished(result.getNumOutputTokens());
        }
    }

    private void armTimer(Context ctx) {
        if (!timerSet) {
            timerSet = true;
            ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + TICK_MS);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Schedule> out) {
        ctx.timerService().registerProcessingTimeTimer(timestamp + TICK_MS);
        Optional<ControlLoop.Decision> d = loop.decide(timestamp);
        if (timestamp - lastSummaryMs >= SUMMARY_EVERY_MS) {
            lastSummaryMs = timestamp;
            LOG.info("control loop: {}", loop.lastCheck());
        }
        if (d.isEmpty()) return;
        ControlLoop.Decision decision = d.get();
        Map<String, String> notes = new LinkedHashMap<>();
        notes.put("control.reason", decision.reason());
        notes.put("control.fit", String.format(Locale.ROOT, "encode x%.2f, decode x%.2f", decision.encodeFactor(), decision.decodeFactor()));
        notes.put("control.arrivalsPerSecond", String.format(Locale.ROOT, "%.3f", decision.arrivalsPerSecond()));
        if (!Double.isNaN(decision.predictedP99E2eMs())) {          // at the observed rate: what a streaming user waits
            notes.put("control.p99E2eMs", String.format(Locale.ROOT, "%.1f", decision.predictedP99E2eMs()));
        }
        notes.put("control.planMs", String.format(Locale.ROOT, "%.1f", decision.planMs()));
        notes.put("control.planCpuMs", String.format(Locale.ROOT, "%.1f", decision.planCpuMs()));
        notes.put("control.previous", current.getScheduleId() + " v" + current.getVersion());
        ScheduleCodec.Origin origin = new ScheduleCodec.Origin(current.getModelName(), current.getHardware(), current.getTask(), timestamp);
        Schedule next = ScheduleCodec.fromEstimate(decision.predicted(), origin, loop.sloMs(), notes);
        next = Schedule.newBuilder(next).setVersion(++newestVersion).setNumReplicas(current.getNumReplicas())
                .setScheduleId(current.getScheduleId()).build();
        LOG.info("control loop: schedule v{} {}", next.getVersion(), decision.describe());
        current = next;
        out.collect(next);
    }
}
