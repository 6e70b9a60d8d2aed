package dev.exegpt.scheduler.sim;

import static dev.exegpt.scheduler.Require.require;

import dev.exegpt.scheduler.workload.LengthDistribution;

/**
 * How big the RRA decode batch is for a given B_E and N_D, and when its members finish (PAPER.md §8.2, §8.4).
 * A request of output length S spends ceil(S/N_D) decode phases in the batch and finishes at iteration
 * 1 + ((S-1) mod N_D) of its last phase.
 *
 * <p>LITTLE (default): by Little's law the resident batch is B_D = B_E x E[ceil(S/N_D)] and B_E x P(U = u) finish
 * at iteration u. LITERAL (the paper's formula read literally, behind a flag): P(U|S) = 1/ceil(S/N_D) on that
 * iteration, B_D = B_E / sum_U P(U), and B_D x P(U = u) finish at iteration u. Both finish B_E per phase; LITERAL's
 * B_D is smaller, so it over-estimates throughput (PAPER.md §8.4 table: 13-91%).
 *
 * @param decodePerEncode      B_D / B_E
 * @param completedPerEncode   [u] for u = 1..N_D: requests finishing at iteration u per encoded request (sums to 1)
 */
public record BatchComposition(int decodeIterationsPerEncode, double decodePerEncode, double[] completedPerEncode) {

    public enum Mode { LITTLE, LITERAL }

    public BatchComposition {
        require(completedPerEncode.length == decodeIterationsPerEncode + 1,
                "completedPerEncode must have N_D + 1 = %s entries, got %s", decodeIterationsPerEncode + 1, completedPerEncode.length);
    }

    public static BatchComposition of(LengthDistribution output, int decodeIterationsPerEncode, Mode mode) {
        int nd = decodeIterationsPerEncode;
        double[] pmf = output.pmf();
        double[] arriving = new double[nd + 1];
        double[] literal = new double[nd + 1];
        double meanPhases = 0, literalSum = 0;
        for (int s = 1; s < pmf.length; s++) {
            if (pmf[s] == 0) continue;
            int phases = (s + nd - 1) / nd;
            int u = 1 + (s - 1) % nd;
            arriving[u] += pmf[s];
            literal[u] += pmf[s] / phases;
            meanPhases += pmf[s] * phases;
            literalSum += pmf[s] / phases;
        }
        if (mode == Mode.LITTLE) {
            return new BatchComposition(nd, meanPhases, arriving);
        }
        for (int u = 1; u <= nd; u++) literal[u] /= literalSum;
        return new BatchComposition(nd, 1 / literalSum, literal);
    }

    /** Active requests during iteration u (1-based), for an encode batch of encodeBatchSize. */
    public double activeAt(int u, double encodeBatchSize) {
        double done = 0;
        for (int v = 1; v < u; v++) done += completedPerEncode[v];
        return encodeBatchSize * (decodePerEncode - done);
    }
}
