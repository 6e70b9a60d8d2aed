package dev.exegpt.runtime.cuda;

import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.SequenceState;
import dev.exegpt.runtime.model.StepBatch;

/**
 * The per-row metadata of one step that the kernels read (token ids, positions, where each row's sequence keeps
 * its keys and values in the pool, how many keys it sees), as sections of longs, uploaded in one copy. Pure
 * arithmetic over the batch and the states' {@link StateLayout}s until {@link #upload}, so it is tested without a GPU.
 */
final class StepMeta {
    // sections: one long per row (LAST_ROW: one per sequence)
    static final int IDS = 0, POS_IDS = 1, QPOS = 2, SELF_K = 3, SELF_V = 4, SELF_STRIDE = 5, SELF_KEYS = 6,
            CROSS_K = 7, CROSS_V = 8, CROSS_STRIDE = 9, CROSS_KEYS = 10, LOCAL_BASE = 11, LOCAL_KEYS = 12,
            LAST_ROW = 13, NUM_SECTIONS = 14;

    private final long[] host;
    private final int rows;
    private final int maxSelfKeys;
    private final int maxCrossKeys;
    private final int maxLocalKeys;
    private long device;

    private StepMeta(long[] host, int rows, int maxSelfKeys, int maxCrossKeys, int maxLocalKeys) {
        this.host = host;
        this.rows = rows;
        this.maxSelfKeys = maxSelfKeys;
        this.maxCrossKeys = maxCrossKeys;
        this.maxLocalKeys = maxLocalKeys;
    }

    /**
     * The metadata of step b over states in the pool; tokens (numTokens) may be null when the step does not start
     * from an embedding (then IDS is 0); learned positions are looked up at position + positionOffset.
     */
    static StepMeta of(StepBatch b, ModelConfig c, int[] tokens, int positionOffset) {
        int t = b.numTokens();
        long[] m = new long[t * NUM_SECTIONS];
        int maxSelf = 1;
        int maxCross = 1;
        int maxLocal = 1;
        int kvDim = c.kvDim();
        for (int i = 0; i < b.numSequences(); i++) {
            SequenceState st = b.state(i);
            int n = b.numRows(i);
            m[LAST_ROW * t + i] = b.rowStart(i) + n - 1;
            maxLocal = Math.max(maxLocal, n);
            for (int j = 0; j < n; j++) {
                int row = b.rowStart(i) + j;
                m[IDS * t + row] = tokens == null ? 0 : tokens[row];
                m[POS_IDS * t + row] = b.startPos(i) + j + positionOffset;
                m[QPOS * t + row] = b.startPos(i) + j;
                m[LOCAL_BASE * t + row] = (long) b.rowStart(i) * kvDim;
                m[LOCAL_KEYS * t + row] = n;
            }
            if (st == null) continue;                                   // a step without states (the head alone)
            StateLayout s = StateLayout.of(c, st.maxPositions, st.encoderLength);
            long base = st.poolOffsetBytes / 4;
            for (int j = 0; j < n; j++) {
                int row = b.rowStart(i) + j;
                int pos = b.startPos(i) + j;
                m[SELF_K * t + row] = base + s.selfKeys(0);
                m[SELF_V * t + row] = base + s.selfValues(0);
                m[SELF_STRIDE * t + row] = s.selfLayerStride();
                m[SELF_KEYS * t + row] = pos + 1;
                m[CROSS_K * t + row] = base + s.crossKeys(0);
                m[CROSS_V * t + row] = base + s.crossValues(0);
                m[CROSS_STRIDE * t + row] = s.crossLayerStride();
                m[CROSS_KEYS * t + row] = s.encoderLength();
                maxSelf = Math.max(maxSelf, pos + 1);
                maxCross = Math.max(maxCross, s.encoderLength());
            }
        }
        return new StepMeta(m, t, maxSelf, maxCross, maxLocal);
    }

    /** Copies the sections to device memory taken from the step's arena. */
    void upload(Gpu dev, StepArena arena) {
        device = arena.take(2L * host.length);                          // a long is two floats
        dev.copyIn(device, host, host.length);
    }

    /** Rows of the step. */
    int rows() { return rows; }

    /** Value of a section at a row (tests). */
    long get(int section, int row) { return host[section * rows + row]; }

    /** Device address of a section (after {@link #upload}). */
    long at(int section) { return device + 8L * section * rows; }

    /** The most keys a row sees in the self-attention cache, in the cross-attention cache, within the step. */
    int maxSelfKeys() { return maxSelfKeys; }

    int maxCrossKeys() { return maxCrossKeys; }

    int maxLocalKeys() { return maxLocalKeys; }
}
