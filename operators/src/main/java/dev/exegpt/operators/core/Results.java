package dev.exegpt.operators.core;

import java.util.ArrayList;
import java.util.List;

import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceResult;
import dev.exegpt.schemas.RequestLatency;

/**
 * Builds the {@link InferenceResult} of a finished request with its latency breakdown. Every duration comes from
 * one {@link Timeline} and the Kafka timestamp, so queue + encode + decode equals end-to-end by construction, and a
 * request whose clock started before the job saw it (a replay after recovery) reports the outage in its queue time.
 */
public final class Results {

    /**
     * Which schedule and executor produced a result, in which job attempt, and on which device layout (as the
     * engine was built; empty when unknown).
     */
    public record Provenance(String scheduleId, int scheduleVersion, String executorId, int attempt, String executedLayout) {
        public Provenance(String scheduleId, int scheduleVersion, String executorId, int attempt) {
            this(scheduleId, scheduleVersion, executorId, attempt, "");
        }
    }

    /** The batches a request ran in: its encode batch and the mean size of its decode iterations. */
    public record Batching(int encodeBatchSize, double meanDecodeBatchSize) {}

    private Results() {}

    public static InferenceResult finished(ValidRequest request, Timeline t, int[] outputTokenIds, String outputText,
                                           FinishReason finishReason, Batching batching, Provenance provenance) {
        double arrived = request.arrivedEpochMs();
        double endToEndMs = t.lastTokenEpochMs() - arrived;
        double ttftMs = t.firstTokenEpochMs() - arrived;
        int numOutput = outputTokenIds.length;
        RequestLatency latency = RequestLatency.newBuilder()
                .setArrivedEpochMs(request.arrivedEpochMs())
                .setCompletedEpochMs(Math.round(t.lastTokenEpochMs()))
                .setQueueMs(t.encodeStartEpochMs() - arrived)
                .setEncodeMs(t.encodeEndEpochMs() - t.encodeStartEpochMs())
                .setDecodeMs(t.lastTokenEpochMs() - t.encodeEndEpochMs())
                .setTtftMs(ttftMs)
                .setTpotMs(numOutput > 1 ? (endToEndMs - ttftMs) / (numOutput - 1) : 0.0)
                .setEndToEndMs(endToEndMs)
                .setClockSkewMs(request.clockSkewMs() > 0 ? request.clockSkewMs() : null)
                .build();
        return base(request, provenance)
                .setOutputTokenIds(toList(outputTokenIds))
                .setOutputText(outputText)
                .setFinishReason(finishReason)
                .setNumOutputTokens(numOutput)
                .setEncodeBatchSize(batching.encodeBatchSize())
                .setMeanDecodeBatchSize(batching.meanDecodeBatchSize())
                .setLatency(latency)
                .setSloMet(request.sloLatencyMs() > 0 ? endToEndMs <= request.sloLatencyMs() : null)
                .build();
    }

    /**
     * A request answered without running to completion (the engine refused it, or its deadline could no longer be
     * met): no output, the reason in {@code errorMessage}, and a missed SLO where one applied.
     */
    public static InferenceResult unfinished(ValidRequest request, double nowEpochMs, FinishReason finishReason,
                                             String errorMessage, Provenance provenance) {
        double waitedMs = nowEpochMs - request.arrivedEpochMs();
        RequestLatency latency = RequestLatency.newBuilder()
                .setArrivedEpochMs(request.arrivedEpochMs())
                .setCompletedEpochMs(Math.round(nowEpochMs))
                .setQueueMs(waitedMs)
                .setEncodeMs(0)
                .setDecodeMs(0)
                .setTtftMs(waitedMs)
                .setEndToEndMs(waitedMs)
                .setClockSkewMs(request.clockSkewMs() > 0 ? request.clockSkewMs() : null)
                .build();
        return base(request, provenance)
                .setFinishReason(finishReason)
                .setErrorMessage(errorMessage)
                .setNumOutputTokens(0)
                .setLatency(latency)
                .setSloMet(request.sloLatencyMs() > 0 ? false : null)
                .build();
    }

    private static InferenceResult.Builder base(ValidRequest request, Provenance provenance) {
        return InferenceResult.newBuilder()
                .setRequestId(request.requestId())
                .setTask(request.task())
                .setNumInputTokens(request.numInputTokens())
                .setNumEstimatedOutputTokens(request.numEstimatedOutputTokens() > 0 ? request.numEstimatedOutputTokens() : null)
                .setSloLatencyMs(request.sloLatencyMs() > 0 ? request.sloLatencyMs() : null)
                .setScheduleId(provenance.scheduleId())
                .setScheduleVersion(provenance.scheduleVersion())
                .setExecutorId(provenance.executorId())
                .setAttempt(provenance.attempt())
                .setExecutedLayout(provenance.executedLayout() == null ? "" : provenance.executedLayout())
                .setMetadata(request.request().getMetadata());
    }

    private static List<Integer> toList(int[] ids) {
        List<Integer> list = new ArrayList<>(ids.length);
        for (int id : ids) {
            list.add(id);
        }
        return list;
    }
}
