package dev.exegpt.operators.flink;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.core.DeadLetters;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.schemas.InferenceRequest;

/**
 * Answers each request id once: keyed by request id, the first request passes and a later one with the same id
 * goes to the dead-letter topic, with the request's bytes and the reason. Ids are remembered for a configurable
 * time (state TTL), which bounds the state.
 */
public class DeduplicateFunction extends KeyedProcessFunction<String, ValidRequest, ValidRequest> {

    private static final long serialVersionUID = 1L;
    public static final String STAGE = "deduplicate";

    private static final ValueStateDescriptor<Long> FIRST_SEEN_DESCRIPTOR =
            new ValueStateDescriptor<>("first-seen-epoch-ms", Types.LONG);

    private final long rememberMs;
    private transient ValueState<Long> firstSeen;
    private transient AvroBinary<InferenceRequest> codec;

    /** @param rememberMs how long an id is remembered, ms */
    public DeduplicateFunction(long rememberMs) {
        this.rememberMs = rememberMs;
    }

    @Override
    public void open(OpenContext context) {
        ValueStateDescriptor<Long> descriptor = new ValueStateDescriptor<>(FIRST_SEEN_DESCRIPTOR.getName(), Types.LONG);
        descriptor.enableTimeToLive(StateTtlConfig.newBuilder(Duration.ofMillis(rememberMs)).build());
        firstSeen = getRuntimeContext().getState(descriptor);
        codec = new AvroBinary<>(InferenceRequest.getClassSchema());
    }

    @Override
    public void processElement(ValidRequest request, Context ctx, Collector<ValidRequest> out) throws Exception {
        Long seen = firstSeen.value();
        if (seen == null) {
            firstSeen.update(request.arrivedEpochMs());
            out.collect(request);
            return;
        }
        RawRecord raw = new RawRecord(request.requestId().getBytes(StandardCharsets.UTF_8), codec.encode(request.request()),
                "", -1, -1, request.arrivedEpochMs());
        ctx.output(ValidateRequestFunction.DEAD_LETTERS, DeadLetters.of(raw, STAGE, "duplicate requestId '"
                + request.requestId() + "': a request with this id arrived at " + seen + " and is answered once", request.requestId(),
                null, System.currentTimeMillis()));
    }
}
