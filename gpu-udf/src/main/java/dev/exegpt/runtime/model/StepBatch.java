package dev.exegpt.runtime.model;

import java.util.List;

/**
 * The rows of one forward step over a ragged batch: sequence i owns rows [rowStart(i), rowStart(i) + numRows(i))
 * of the activations (numTokens, dModel) and those rows sit at positions startPos(i), startPos(i) + 1, ... .
 * Encode: numRows = prompt length, startPos = 0. Decode: numRows = 1, startPos = the sequence's cached length.
 */
public final class StepBatch {
    private final List<SequenceState> states;
    private final int[] rowStart;
    private final int[] numRows;
    private final int[] startPos;
    private final int numTokens;

    public StepBatch(List<SequenceState> states, int[] numRows, int[] startPos) {
        if (states.size() != numRows.length || numRows.length != startPos.length) {
            throw new IllegalArgumentException("states, numRows and startPos differ in length");
        }
        this.states = states;
        this.numRows = numRows;
        this.startPos = startPos;
        this.rowStart = new int[numRows.length];
        int total = 0;
        for (int i = 0; i < numRows.length; i++) {
            rowStart[i] = total;
            total += numRows[i];
        }
        this.numTokens = total;
    }

    public int numSequences() { return states.size(); }

    public SequenceState state(int i) { return states.get(i); }

    public int rowStart(int i) { return rowStart[i]; }

    public int numRows(int i) { return numRows[i]; }

    public int startPos(int i) { return startPos[i]; }

    /** Rows of the step: the sum of numRows. */
    public int numTokens() { return numTokens; }

    /** Sequence that owns row r. */
    public int sequenceOfRow(int r) {
        int lo = 0;
        int hi = numRows.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (rowStart[mid] <= r) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }
}
