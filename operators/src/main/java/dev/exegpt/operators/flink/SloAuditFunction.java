package dev.exegpt.operators.flink;

import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import dev.exegpt.operators.core.Audit;
import dev.exegpt.schemas.AuditWindow;
import dev.exegpt.schemas.InferenceResult;

/** Summarises one window of results per task and schedule version into an {@link AuditWindow}. */
public class SloAuditFunction extends ProcessWindowFunction<InferenceResult, AuditWindow, String, TimeWindow> {

    private static final long serialVersionUID = 1L;
    private final int boundOutputTokens;

    /** @param boundOutputTokens the schedule's latency-defining output length (SLA-(b)); 0 if unknown */
    public SloAuditFunction(int boundOutputTokens) {
        this.boundOutputTokens = boundOutputTokens;
    }

    /** The key results are audited by: task, schedule id and version. */
    public static String auditKey(InferenceResult r) {
        return r.getTask() + "|" + r.getScheduleId() + "|" + r.getScheduleVersion();
    }

    @Override
    public void process(String key, Context ctx, Iterable<InferenceResult> results, Collector<AuditWindow> out) {
        out.collect(Audit.summarize(results, ctx.window().getStart(), ctx.window().getEnd(), boundOutputTokens));
    }
}
