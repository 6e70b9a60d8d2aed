package dev.exegpt.runtime.model;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;

/**
 * All-reduce among threads of one JVM (the CPU stand-in for NCCL): each rank publishes its buffer, sums one chunk
 * of every buffer (reduce-scatter), and copies the summed chunks back (all-gather). Three barriers per call, so the
 * result is the same on every rank and in the same order of addition as a one-device sum of partial results.
 */
public final class LoopbackAllReduce implements AllReduce {
    private final int degree;
    private final float[][] buffers;
    private final CyclicBarrier barrier;
    private float[] sum = new float[0];

    public LoopbackAllReduce(int degree) {
        if (degree < 1) throw new IllegalArgumentException("degree=" + degree + ": must be at least 1");
        this.degree = degree;
        this.buffers = new float[degree][];
        this.barrier = new CyclicBarrier(degree);
    }

    @Override public int degree() { return degree; }

    @Override
    public void sum(int rank, float[] data, int len) {
        if (degree == 1) return;
        buffers[rank] = data;
        if (rank == 0 && sum.length < len) sum = new float[len];
        await();
        int start = (int) ((long) len * rank / degree);
        int end = (int) ((long) len * (rank + 1) / degree);
        for (int i = start; i < end; i++) {
            float s = 0;
            for (int r = 0; r < degree; r++) s += buffers[r][i];       // rank order: deterministic rounding
            sum[i] = s;
        }
        await();
        System.arraycopy(sum, 0, data, 0, len);
        await();
    }

    private void await() {
        try {
            barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("all-reduce interrupted", e);
        } catch (BrokenBarrierException e) {
            throw new IllegalStateException("all-reduce broken: another rank of the group failed", e);
        }
    }

    /** Breaks the barrier so ranks waiting in {@link #sum} fail instead of hanging when one rank has failed. */
    public void abort() {
        barrier.reset();
    }
}
