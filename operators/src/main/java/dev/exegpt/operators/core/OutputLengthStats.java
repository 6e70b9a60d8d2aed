package dev.exegpt.operators.core;

/**
 * A task's observed output lengths, overall and by input-length bucket (powers of two), starting from the task's
 * published distribution as a prior worth {@link #PRIOR_WEIGHT} observations. The expectation for a request is the
 * posterior mean of its input bucket once that bucket has {@link #MIN_BUCKET_OBSERVATIONS} observations (where the
 * data shows input and output lengths move together, as in translation), else the task's posterior mean.
 *
 * <p>Mutable and not thread-safe; one instance per task in keyed state. Public fields so that Flink serializes it
 * as a POJO.
 */
public final class OutputLengthStats {

    /** Pseudo-observations the prior counts for. */
    public static final double PRIOR_WEIGHT = 20;
    /** Observations an input bucket needs before its own mean is used. */
    public static final long MIN_BUCKET_OBSERVATIONS = 20;
    /** Buckets: [1,2), [2,4), ... [2^30, inf) input tokens. */
    public static final int NUM_BUCKETS = 31;

    public double priorMeanTokens;
    public long numObserved;
    public double sumObservedTokens;
    public long[] bucketCounts = new long[NUM_BUCKETS];
    public double[] bucketSums = new double[NUM_BUCKETS];

    /** For Flink's POJO serializer. */
    public OutputLengthStats() {}

    public static OutputLengthStats withPrior(double priorMeanTokens) {
        OutputLengthStats s = new OutputLengthStats();
        s.priorMeanTokens = priorMeanTokens;
        return s;
    }

    /** Records a finished request. */
    public void observe(int numInputTokens, int numOutputTokens) {
        numObserved++;
        sumObservedTokens += numOutputTokens;
        int b = bucket(numInputTokens);
        bucketCounts[b]++;
        bucketSums[b] += numOutputTokens;
    }

    /** Expected output length of a request with this input length, tokens (0 if nothing is known). */
    public double expectedTokens(int numInputTokens) {
        if (priorMeanTokens == 0 && numObserved == 0) {
            return 0;
        }
        double priorWeight = priorMeanTokens > 0 ? PRIOR_WEIGHT : 0;     // a task with no published distribution
        double taskMean = (priorMeanTokens * priorWeight + sumObservedTokens) / (priorWeight + numObserved);
        int b = bucket(numInputTokens);
        if (bucketCounts[b] >= MIN_BUCKET_OBSERVATIONS) {
            // The bucket's mean, shrunk towards the task's mean with the same prior weight.
            return (taskMean * PRIOR_WEIGHT + bucketSums[b]) / (PRIOR_WEIGHT + bucketCounts[b]);
        }
        return taskMean;
    }

    static int bucket(int numInputTokens) {
        int n = Math.max(1, numInputTokens);
        return Math.min(NUM_BUCKETS - 1, 31 - Integer.numberOfLeadingZeros(n));
    }
}
