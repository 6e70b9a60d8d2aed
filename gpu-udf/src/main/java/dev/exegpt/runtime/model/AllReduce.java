package dev.exegpt.runtime.model;

/**
 * The collective a tensor-parallel group joins its partial sums with. Every rank calls {@link #sum} with the same
 * length, in the same order; when it returns, data on every rank holds the element-wise sum over ranks.
 */
public interface AllReduce {

    /** Degree of the group. */
    int degree();

    /** Sums data[0, len) over all ranks, in place on every rank. */
    void sum(int rank, float[] data, int len);

    /** The trivial collective of a single device. */
    AllReduce NONE = new AllReduce() {
        @Override public int degree() { return 1; }
        @Override public void sum(int rank, float[] data, int len) {}
    };
}
