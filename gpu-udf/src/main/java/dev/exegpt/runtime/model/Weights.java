package dev.exegpt.runtime.model;

import dev.exegpt.runtime.backend.Ops;
import dev.exegpt.runtime.weights.Checkpoints;
import dev.exegpt.runtime.weights.DType;
import dev.exegpt.runtime.weights.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The tensors of a checkpoint by Hugging Face name, and the slicing that gives each device its part. Shapes are
 * checked against what the config implies; a missing or misshapen tensor fails with its name and both shapes.
 */
public final class Weights {
    private final String source;
    private final Map<String, Tensor> tensors;

    public Weights(String source, Map<String, Tensor> tensors) {
        this.source = source;
        this.tensors = tensors;
    }

    /** Reads {@code dir/model.safetensors}, or the shards {@code dir/model.safetensors.index.json} lists. */
    public static Weights read(Path dir) throws IOException {
        return new Weights(dir.toString(), Checkpoints.readTensors(dir));
    }

    /** Whether the checkpoint holds this tensor (under its name or an alias, see {@link #get}). */
    public boolean has(String name) {
        return find(name) != null;
    }

    /**
     * Checkpoints name the same tensor in more than one way: OPT weights saved from {@code OPTModel} lack the
     * {@code model.} prefix of {@code OPTForCausalLM}, and T5 checkpoints may store the shared embedding only as
     * {@code encoder.embed_tokens.weight} or {@code decoder.embed_tokens.weight}.
     */
    private Tensor find(String name) {
        Tensor t = tensors.get(name);
        if (t == null && name.startsWith("model.")) t = tensors.get(name.substring("model.".length()));
        if (t == null && name.equals("shared.weight")) {
            t = tensors.get("encoder.embed_tokens.weight");
            if (t == null) t = tensors.get("decoder.embed_tokens.weight");
        }
        return t;
    }

    /** The tensor with this name (or an alias) and exactly this shape. */
    public Tensor get(String name, int... shape) {
        Tensor t = find(name);
        if (t == null) throw new IllegalArgumentException(source + ": tensor " + name + " is missing");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(source + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", the config implies " + Arrays.toString(shape));
        }
        return t;
    }

    /** A vector (n) or its slice [start, start+len) when split by outputs; whole otherwise. */
    public float[] vector(String name, int n, Split split, int start, int len) {
        float[] v = get(name, n).data();
        return split == Split.OUTPUTS ? Arrays.copyOfRange(v, start, start + len) : v.clone();
    }

    /**
     * A matrix (rows, cols) or its slice (rows or columns [start, start+len)), prepared by the backend in the width the
     * checkpoint stored it in (see {@link Ops#weight16}).
     */
    public Ops.Weight matrix(String name, int rows, int cols, Split split, int start, int len, Ops kernels) {
        Tensor t = get(name, rows, cols);
        int sliceRows = split == Split.OUTPUTS ? len : rows;
        int sliceCols = split == Split.INPUTS ? len : cols;
        return t.dtype() == DType.F32
                ? kernels.weight(slice(t.data(), float[]::new, rows, cols, split, start, len), sliceRows, sliceCols)
                : kernels.weight16(slice(t.bits(), short[]::new, rows, cols, split, start, len), t.dtype(), sliceRows, sliceCols);
    }

    /**
     * What a shard keeps of w (rows, cols), a float[] or short[]: all of it (NONE, the array itself), rows [start,
     * start + len) (OUTPUTS) or columns [start, start + len) (INPUTS), as a new array of newArray's kind.
     */
    private static <A> A slice(A w, IntFunction<A> newArray, int rows, int cols, Split split, int start, int len) {
        return switch (split) {
            case NONE -> w;
            case OUTPUTS -> {
                A rowsSlice = newArray.apply(len * cols);
                System.arraycopy(w, start * cols, rowsSlice, 0, len * cols);
                yield rowsSlice;
            }
            case INPUTS -> {
                A columns = newArray.apply(rows * len);
                for (int r = 0; r < rows; r++) System.arraycopy(w, r * cols + start, columns, r * len, len);
                yield columns;
            }
        };
    }

    /** A whole matrix (rows, cols), prepared by the backend in its stored width (the LM head). */
    public static Ops.Weight prepare(Tensor t, Ops ops) {
        int rows = t.dim(0);
        int cols = t.dim(1);
        return t.dtype() == DType.F32 ? ops.weight(t.data(), rows, cols) : ops.weight16(t.bits(), t.dtype(), rows, cols);
    }
}
