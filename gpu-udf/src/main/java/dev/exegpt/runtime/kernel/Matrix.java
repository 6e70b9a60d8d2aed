package dev.exegpt.runtime.kernel;

/**
 * A weight matrix of shape (rows, cols) = (out features, in features), held in the layout of the {@link Kernels}
 * that prepared it: f32 values in {@link #data()}, or two 16-bit values per int in {@link #pairs()} for the 16-bit
 * layouts. Only that family's {@code linear} reads them.
 */
public record Matrix(float[] data, int[] pairs, int rows, int cols, Layout layout) {

    /** How the values are arranged. */
    public enum Layout {
        /** (rows, cols) row-major f32, as in the checkpoint. */
        ROW_MAJOR,
        /** Panels of {@link VectorMatmul#NR} rows (zero-padded), each stored transposed: (cols, NR) f32 per panel. */
        PANELS,
        /**
         * As {@link #PANELS} in bfloat16: the NR values of a panel row are L ints, int i holding column i in its low
         * half and column L + i in its high half, so that a shift and a mask give two f32 vectors.
         */
        PANELS_BF16,
        /** As {@link #PANELS_BF16} in IEEE half precision. */
        PANELS_F16
    }

    /** An f32 matrix. */
    public Matrix(float[] data, int rows, int cols, Layout layout) {
        this(data, null, rows, cols, layout);
    }

    public Matrix {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("Matrix shape (" + rows + ", " + cols + "): both must be positive");
        }
        if ((data == null) == (pairs == null)) {
            throw new IllegalArgumentException("Matrix: exactly one of data (f32) and pairs (16-bit) is held");
        }
    }

    /** Bytes this matrix occupies in memory. */
    public long numBytes() {
        return 4L * (data != null ? data.length : pairs.length);
    }
}
