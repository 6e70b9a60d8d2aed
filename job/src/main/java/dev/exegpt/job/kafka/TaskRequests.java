package dev.exegpt.job.kafka;

import java.util.Map;
import java.util.NoSuchElementException;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

import dev.exegpt.scheduler.workload.LengthSample;
import dev.exegpt.scheduler.workload.Workload;
import dev.exegpt.scheduler.workload.Workloads;
import dev.exegpt.schemas.InferenceRequest;

/**
 * Requests sampled from a task's input and output length distributions, with synthetic prompt text of the sampled
 * input length. By default a request asks for exactly the sampled output length ({@code ignoreEos}), as vLLM's
 * throughput benchmark does, so a run follows the task's output distribution even with random weights.
 */
public final class TaskRequests implements RequestSource {

    private final String task;
    private final Workload workload;
    private final long count;
    private final Long sloMs;
    private final boolean ignoreEos;
    private final Integer maxPromptTokens;
    private final RandomGenerator random;
    private final SyntheticPrompts prompts;
    private final String idPrefix;
    private long produced;

    public TaskRequests(Workload workload, long count, long seed, Long sloMs, boolean ignoreEos,
                 Integer maxPromptTokens) {
        this.task = workload.name();
        this.workload = workload;
        this.count = count;
        this.sloMs = sloMs;
        this.ignoreEos = ignoreEos;
        this.maxPromptTokens = maxPromptTokens;
        this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        this.prompts = new SyntheticPrompts(random);
        // Ids are unique across runs: task, a per-run stamp, then a sequence number.
        this.idPrefix = task + "-" + Long.toString(System.currentTimeMillis(), 36) + "-";
    }

    public static TaskRequests open(String task, long count, long seed, Long sloMs, boolean ignoreEos, Integer maxPromptTokens) {
        return new TaskRequests(Workloads.byName(task), count, seed, sloMs, ignoreEos, maxPromptTokens);
    }

    @Override
    public boolean hasNext() {
        return produced < count;
    }

    @Override
    public InferenceRequest next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        LengthSample lengths = workload.sample(random);
        int numInput = maxPromptTokens == null ? lengths.numInputTokens() : Math.min(lengths.numInputTokens(), maxPromptTokens);
        produced++;
        // The all-fields constructor: the builder deep-copies every default on each build, a cost bulk sends feel.
        return new InferenceRequest(idPrefix + produced, task, prompts.text(Math.max(1, numInput), random), null,
                Math.max(1, lengths.numOutputTokens()), ignoreEos, sloMs, null, System.currentTimeMillis(), Map.of());
    }

    @Override
    public long expectedCount() {
        return count;
    }

    @Override
    public long numSkipped() {
        return 0;
    }

    @Override
    public void close() {}
}
