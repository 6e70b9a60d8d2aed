package dev.exegpt.runtime.weights;

import java.util.Arrays;

/** A named f32 tensor, row-major with the last dimension contiguous, as read from (or written to) a checkpoint. */
public record Tensor(String name, int[] shape, float[] data) {

    public Tensor {
        long size = 1;
        for (int d : shape) {
            if (d <= 0) throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape)
                    + " has a non-positive dimension");
            size *= d;
        }
        if (size != data.length) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " holds "
                    + size + " values, data has " + data.length);
        }
    }

    /** Dimension i of the shape. */
    public int dim(int i) {
        return shape[i];
    }
}
