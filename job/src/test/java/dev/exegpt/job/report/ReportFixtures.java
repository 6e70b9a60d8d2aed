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
 * Results of a seeded STATIC-style run built with the job's own {@link Results} core: requests arrive at a steady
 * random rate, each executor encodes up to {@code batch} waiting requests in one step and decodes them to the end
 * before its next step. Encode takes 20 + 5 x batch ms, each decode iteration 8 + batch ms.
 */
public final class ReportFixtures {

    public static final long T0 = 1_764_000_000_000L;

    private ReportFixtures() {}

    public static List<InferenceResult> run(String scheduleId, int numExecutors, int batch, int numRequests, long sloMs, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<InferenceResult> out = new ArrayList<>();
        double[] freeAtMs = new double[numExecutors];
        double arrivalMs = T0;
        int next = 0;
        while (next < numRequests) {
            int executor = next / batch % numExecutors;
            int n = Math.min(batch, numRequests - next);
            List<ValidRequest> requests = new ArrayList<>();
            int[] numOutput = new int[n];
            for (int i = 0; i < n; i++) {
                arrivalMs += 5 + random.nextInt(30);
                String id = scheduleId + "-" + (next + i);
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
                        new Results.Batching(n, n), new Results.Provenance(scheduleId, 1, "rra-" + executor, 1)));
            }
            freeAtMs[executor] = stepEnd;
            next += n;
        }
        return out;
    }
}
