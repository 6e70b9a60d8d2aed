package dev.exegpt.operators.flink;

import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.BroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.schemas.Schedule;

/**
 * Assigns each request to an executor (device group) under the schedule in force, round robin over the schedule's
 * replicas. Schedules published on {@code exegpt.schedules} arrive as broadcast input; a newer version replaces the
 * current one (checkpointed broadcast state), an older or equal one is ignored.
 */
public class DispatchFunction extends BroadcastProcessFunction<ValidRequest, Schedule, DispatchedRequest> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DispatchFunction.class);
    private static final String CURRENT = "current";

    public static final MapStateDescriptor<String, Schedule> SCHEDULE_STATE =
            new MapStateDescriptor<>("schedule", Types.STRING, TypeInformation.of(Schedule.class));

    private final Schedule initial;
    private final int numExecutors;
    private long numDispatched;

    /**
     * @param initial      the schedule to run until a newer one arrives
     * @param numExecutors parallelism of the executor operator: replicas beyond it share executors
     */
    public DispatchFunction(Schedule initial, int numExecutors) {
        this.initial = initial;
        this.numExecutors = numExecutors;
    }

    @Override
    public void processElement(ValidRequest request, ReadOnlyContext ctx, Collector<DispatchedRequest> out) throws Exception {
        ReadOnlyBroadcastState<String, Schedule> state = ctx.getBroadcastState(SCHEDULE_STATE);
        Schedule current = state.contains(CURRENT) ? state.get(CURRENT) : initial;
        int replicas = Math.max(1, Math.min(current.getNumReplicas(), numExecutors));
        out.collect(new DispatchedRequest(request, current, (int) (numDispatched++ % replicas)));
    }

    @Override
    public void processBroadcastElement(Schedule schedule, Context ctx, Collector<DispatchedRequest> out) throws Exception {
        BroadcastState<String, Schedule> state = ctx.getBroadcastState(SCHEDULE_STATE);
        Schedule current = state.contains(CURRENT) ? state.get(CURRENT) : initial;
        if (schedule.getVersion() > current.getVersion()) {
            state.put(CURRENT, schedule);
            LOG.info("dispatch adopts schedule {} v{} ({}, B_E={}, N_D={})", schedule.getScheduleId(), schedule.getVersion(),
                    schedule.getPolicy(), schedule.getEncodeBatchSize(), schedule.getDecodeIterationsPerEncode());
        } else {
            LOG.info("dispatch ignores schedule {} v{}: v{} is in force", schedule.getScheduleId(), schedule.getVersion(),
                    current.getVersion());
        }
    }
}
