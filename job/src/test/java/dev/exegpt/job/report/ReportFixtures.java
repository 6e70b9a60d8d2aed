package dev.exegpt.job.report;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import dev.exegpt.operators.core.Results;
import dev.exegpt.operators.core.Timeline;
import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.schemas.FinishReason;
import dev.exegpt.schemas.InferenceRequest;
import dev.exegpt.schemas.InferenceResult;

/**
 * Results of seeded STATIC-style runs built with the job's own {@link Results} core: each executor encodes up to
 * {@code batch} waiting requests in one step and decodes them to the end before its next step. Encode takes 20 + 5 x
 * batch ms, each decode iteration 8 + batch ms. {@link #run} sends requests at a steady random rate; {@link #bench}
 * sends rounds in bulk, the policies' rounds interleaved as {@code exegpt bench} runs them.
 */
public final class ReportFixtures {

    public static final long T0 = 1_764_000_000_000L;

    private ReportFixtures() {}

    public static List<InferenceResult> run(String scheduleId, int numExecutors, int batch, int numRequests, long sloMs, long seed) {
        return run(scheduleId, 1, T0, false, numExecutors, batch, numRequests, sloMs, seed);
    }

    /**
     * One policy of a bench: {@code schedules} maps each policy's schedule id to its batch; every round sends
     * {@code numRequests} requests to each policy in turn, all at once (bulk), a new version of its schedule each
     * time, the order reversed every second round, with a pause of {@code switchMs} between policies.
     *
     * @return each schedule id's results, every round
     */
    public static java.util.Map<String, List<InferenceResult>> bench(java.util.Map<String, Integer> schedules, int numRounds,
                                                                    int numRequests, long sloMs, long switchMs) {
        java.util.Map<String, List<InferenceResult>> out = new java.util.LinkedHashMap<>();
        schedules.keySet().forEach(id -> out.put(id, new ArrayList<>()));
        long startMs = T0;
        int version = 1;
        for (int round = 1; round <= numRounds; round++) {
            List<String> order = new ArrayList<>(schedules.keySet());
            if (round % 2 == 0) {
                java.util.Collections.reverse(order);
            }
            for (String id : order) {
                List<InferenceResult> rs = run(id, version++, startMs, true, 1, schedules.get(id), numRequests, sloMs, round * 31L + version);
                out.get(id).addAll(rs);
                startMs = rs.stream().mapToLong(r -> r.getLatency().getCompletedEpochMs()).max().orElse(startMs) + switchMs;
            }
        }
        return out;
    }

    private static List<InferenceResult> run(String scheduleId, int version, long startEpochMs, boolean bulk, int numExecutors,
                                             int batch, int numRequests, long sloMs, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<InferenceResult> out = new ArrayList<>();
        double[] freeAtMs = new double[numExecutors];
        double arrivalMs = startEpochMs;
        int next = 0;
        while (next < numRequests) {
            int executor = next / batch % numExecutors;
            int n = Math.min(batch, numRequests - next);
            List<ValidRequest> requests = new ArrayList<>();
            int[] numOutput = new int[n];
            for (int i = 0; i < n; i++) {
                arrivalMs += bulk ? 0 : 5 + random.nextInt(30);
                String id = scheduleId + (bulk ? "-v" + version : "") + "-" + (next + i);
                numOutput[i] = 2 + random.nextInt(12);
                InferenceRequest request = InferenceRequest.newBuilder().setRequestId(id).setTask("summarization")
                        .setPromptText("text of " + id).setMaxNewTokens(numOutput[i]).setIgnoreEos(true).build();
                requests.add(new ValidRequest(request, new int[] {1, 2, 3}, (long) arrivalMs, sloMs, 8));
            }
            double encodeStart = Math.max(freeAtMs[executor], arrivalMs);
            double encodeEnd = encodeStart + 20 + 5 * n;
            double iterationMs = 8 + n;
            double stepEnd = encodeEnd;
            for (int i = 0; i < n; i++) {
                double last = encodeEnd + numOutput[i] * iterationMs;
                stepEnd = Math.max(stepEnd, last);
                Timeline t = new Timeline(encodeStart, encodeEnd, encodeEnd + iterationMs, last);
                out.add(Results.finished(requests.get(i), t, new int[numOutput[i]], "out", FinishReason.MAX_TOKENS,
                        new Results.Batching(n, n), new Results.Provenance(scheduleId, version, "rra-" + executor, 1)));
            }
            freeAtMs[executor] = stepEnd;
            next += n;
        }
        return out;
    }
}
