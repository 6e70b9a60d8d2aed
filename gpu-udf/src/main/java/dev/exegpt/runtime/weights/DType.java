package dev.exegpt.runtime.weights;

/**
 * Element types of safetensors tensors this runtime reads. Computation is in f32; matrices stay 16-bit in memory and
 * the CPU kernels widen them in registers ({@code VectorKernels}).
 */
public enum DType {
    F32(4), F16(2), BF16(2);

    private final int numBytes;

    DType(int numBytes) {
        this.numBytes = numBytes;
    }

    /** Bytes per element. */
    public int numBytes() {
        return numBytes;
    }

    /** The 16-bit patterns of this type as floats (exact); not for F32. */
    public float[] widen(short[] bits) {
        float[] out = new float[bits.length];
        switch (this) {
            case F16 -> {
                for (int i = 0; i < out.length; i++) out[i] = halfToFloat(bits[i]);
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) out[i] = bf16ToFloat(bits[i]);
            }
            default -> throw new IllegalStateException("F32 has no 16-bit patterns");
        }
        return out;
    }

    /** Floats rounded to this 16-bit type's patterns (nearest even); not for F32. */
    public short[] narrow(float[] values) {
        short[] out = new short[values.length];
        switch (this) {
            case F16 -> {
                for (int i = 0; i < out.length; i++) out[i] = floatToHalf(values[i]);
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) out[i] = floatToBf16(values[i]);
            }
            default -> throw new IllegalStateException("F32 has no 16-bit patterns");
        }
        return out;
    }

    /** IEEE half (binary16) bits to float; exact for every half value, subnormals included. */
    public static float halfToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));   // inf, nan
        if (exp == 0) {                                                                       // zero, subnormal
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** Float to IEEE half bits, rounding to nearest even; overflow becomes infinity. */
    public static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 : 0));
        int e = exp - 127 + 15;
        if (e >= 0x1f) return (short) (sign | 0x7c00);
        if (e <= 0) {
            if (e < -10) return (short) sign;
            int m = mant | 0x800000;
            int shift = 14 - e;
            int half = m >> shift;
            int rest = m & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rest > mid || (rest == mid && (half & 1) == 1)) half++;
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >> 13);
        int rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) half++;
        return (short) (sign | half);
    }

    /** bfloat16 bits to float (the upper half of an f32). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Float to bfloat16 bits, rounding to nearest even. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7f800000) == 0x7f800000 && (bits & 0x7fffff) != 0) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
