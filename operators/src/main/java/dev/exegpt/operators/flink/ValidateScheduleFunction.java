package dev.exegpt.operators.flink;

import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.exegpt.operators.core.DeadLetters;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.operators.core.ScheduleValidator;
import dev.exegpt.schemas.Schedule;

/**
 * Admits records of the schedules topic that the running job can adopt ({@link ScheduleValidator}) and refuses the
 * rest with a dead letter (stage {@code schedule}) and a log line, so the schedule in force stays and the job never
 * restarts because of a control record. Runs with parallelism 1 (the topic has one partition, so versions stay in
 * order); the version in force is checkpointed.
 */
public class ValidateScheduleFunction extends ProcessFunction<RawRecord, Schedule> implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ValidateScheduleFunction.class);

    private final ScheduleValidator.Limits limits;
    private final int initialVersion;
    private transient ScheduleValidator validator;
    private transient int versionInForce;
    private transient ListState<Integer> versionState;

    /** @param initialVersion the version of the schedule the job starts with */
    public ValidateScheduleFunction(ScheduleValidator.Limits limits, int initialVersion) {
        this.limits = limits;
        this.initialVersion = initialVersion;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        versionState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("schedule-version-in-force", Types.INT));
        versionInForce = initialVersion;
        for (Integer v : versionState.get()) {
            versionInForce = Math.max(versionInForce, v);
        }
    }

    @Override
    public void open(OpenContext context) {
        validator = new ScheduleValidator(limits);
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<Schedule> out) {
        ScheduleValidator.Checked checked = validator.check(raw.value(), versionInForce);
        if (checked.accepted()) {
            versionInForce = checked.schedule().getVersion();
            String warning = validator.capacityWarning(checked.schedule());
            if (warning != null) {
                LOG.warn("{}", warning);
            }
            out.collect(checked.schedule());
            return;
        }
        LOG.warn("refused the record at {} of the schedules topic, schedule v{} stays in force: {}", raw.position(),
                versionInForce, checked.reason());
        String id = checked.schedule() == null ? null : checked.schedule().getScheduleId();
        ctx.output(ValidateRequestFunction.DEAD_LETTERS, DeadLetters.of(raw, ScheduleValidator.STAGE, checked.reason(), id,
                null, System.currentTimeMillis()));
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        versionState.update(List.of(versionInForce));
    }
}
