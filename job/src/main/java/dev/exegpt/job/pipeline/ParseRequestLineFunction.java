package dev.exegpt.job.pipeline;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import dev.exegpt.operators.core.AvroBinary;
import dev.exegpt.operators.core.DeadLetters;
import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.operators.flink.DeduplicateFunction;
import dev.exegpt.operators.flink.ValidateRequestFunction;
import dev.exegpt.schemas.InferenceRequest;

/**
 * Batch input: one JSON line of a requests file into the raw record the pipeline takes (Avro bytes, timestamped
 * when read, which is the origin of its latencies). A line that is not a request goes to the dead letters with the
 * parser's reason and the line's bytes. The first line with a request id wins: batch execution sorts records by
 * key without keeping their order, so duplicates are settled here, in file order (this operator runs with
 * parallelism 1, like the file source of one file).
 */
public class ParseRequestLineFunction extends ProcessFunction<String, RawRecord> {

    private static final long serialVersionUID = 1L;
    public static final String STAGE = "parse";
    private transient AvroBinary<InferenceRequest> codec;
    private transient Set<String> seen;

    @Override
    public void open(OpenContext context) {
        codec = new AvroBinary<>(InferenceRequest.getClassSchema());
        seen = new HashSet<>();
    }

    @Override
    public void processElement(String line, Context ctx, Collector<RawRecord> out) {
        if (line.isBlank()) {
            return;
        }
        long now = System.currentTimeMillis();
        try {
            InferenceRequest request = RequestJson.parse(line);
            RawRecord raw = new RawRecord(request.getRequestId().getBytes(StandardCharsets.UTF_8), codec.encode(request), "", -1, -1, now);
            if (seen.add(request.getRequestId())) {
                out.collect(raw);
            } else {
                ctx.output(ValidateRequestFunction.DEAD_LETTERS, DeadLetters.of(raw, DeduplicateFunction.STAGE, "duplicate requestId '"
                        + request.getRequestId() + "': an earlier line of the file has this id and is answered once",
                        request.getRequestId(), null, now));
            }
        } catch (IllegalArgumentException e) {
            RawRecord raw = new RawRecord(null, line.getBytes(StandardCharsets.UTF_8), "", -1, -1, now);
            ctx.output(ValidateRequestFunction.DEAD_LETTERS, DeadLetters.of(raw, STAGE, e.getMessage(), null, null, now));
        }
    }
}
