package dev.exegpt.runtime.kernel;

/**
 * A weight matrix of shape (rows, cols) = (out features, in features), held in the layout of the {@link Kernels}
 * that prepared it. Only that family's {@code linear} reads {@link #data()}.
 */
public record Matrix(float[] data, int rows, int cols, Layout layout) {

    /** How {@link #data()} is arranged. */
    public enum Layout {
        /** (rows, cols) row-major, as in the checkpoint. */
        ROW_MAJOR,
        /** Panels of {@link VectorMatmul#NR} rows (zero-padded), each stored transposed: (cols, NR) per panel. */
        PANELS
    }

    public Matrix {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("Matrix shape (" + rows + ", " + cols + "): both must be positive");
        }
    }

    /** Bytes this matrix occupies in memory. */
    public long numBytes() {
        return 4L * data.length;
    }
}
