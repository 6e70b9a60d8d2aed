package dev.exegpt.runtime.weights;

import java.util.Arrays;

/**
 * A named tensor, row-major with the last dimension contiguous, as read from (or written to) a checkpoint, kept in the
 * width it was stored in: F32 as floats, F16 and BF16 as their 16-bit patterns ({@link #bits}), so that a 16-bit
 * checkpoint takes half the memory of its f32 form and the kernels stream half the bytes
 * ({@code Weights.matrix} hands the bits to the backend as they are).
 */
public final class Tensor {
    private final String name;
    private final int[] shape;
    private final DType dtype;
    private final float[] data;       // F32
    private final short[] bits;       // F16, BF16

    /** An F32 tensor over data (not copied). */
    public Tensor(String name, int[] shape, float[] data) {
        this(name, shape, DType.F32, data, null, data.length);
    }

    private Tensor(String name, int[] shape, DType dtype, float[] data, short[] bits, int length) {
        long size = 1;
        for (int d : shape) {
            if (d <= 0) throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape)
                    + " has a non-positive dimension");
            size *= d;
        }
        if (size != length) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " holds "
                    + size + " values, data has " + length);
        }
        this.name = name;
        this.shape = shape;
        this.dtype = dtype;
        this.data = data;
        this.bits = bits;
    }

    /** A 16-bit tensor (F16 or BF16) over bits (not copied). */
    public static Tensor of16(String name, int[] shape, DType dtype, short[] bits) {
        if (dtype == DType.F32) throw new IllegalArgumentException("tensor " + name + ": F32 data is float[], not 16-bit");
        return new Tensor(name, shape, dtype, null, bits, bits.length);
    }

    /** This tensor rounded to a 16-bit type (nearest even); F32 keeps this tensor. */
    public Tensor narrowedTo(DType to) {
        if (to == DType.F32 || to == dtype) return this;
        return of16(name, shape, to, to.narrow(data()));
    }

    public String name() {
        return name;
    }

    public int[] shape() {
        return shape;
    }

    /** Dimension i of the shape. */
    public int dim(int i) {
        return shape[i];
    }

    /** How the values are held. */
    public DType dtype() {
        return dtype;
    }

    /** Number of values. */
    public int numElements() {
        return data != null ? data.length : bits.length;
    }

    /**
     * The values as floats: the array itself for F32, a widened copy (exact) of a 16-bit tensor. Meant for vectors
     * and tables; matrices go to the backend through {@link #bits} without widening.
     */
    public float[] data() {
        return data != null ? data : dtype.widen(bits);
    }

    /** The 16-bit patterns of an F16 or BF16 tensor; null for F32. */
    public short[] bits() {
        return bits;
    }
}
