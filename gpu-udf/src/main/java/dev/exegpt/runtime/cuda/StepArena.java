package dev.exegpt.runtime.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Device memory for the activations and metadata of a step: bump allocation from one chunk, reset when the step ends.
 * A step that needs more than the chunk holds takes a new chunk twice as large and keeps the old one until the step
 * ends (queued kernels may still read it); at the end the old chunks are freed after one wait, so the arena settles
 * on a chunk that holds a whole step and allocates nothing in steady state. Offsets are aligned to 256 bytes.
 */
final class StepArena {
    private static final long ALIGN_FLOATS = 64;
    private static final long MIN_CHUNK_FLOATS = 1L << 20;

    private final Gpu dev;
    private final List<Long> retired = new ArrayList<>();
    private long chunk;
    private long chunkFloats;
    private long used;

    StepArena(Gpu dev) {
        this.dev = dev;
    }

    /** Device address of floats floats, valid until {@link #reset}. */
    long take(long floats) {
        long n = (Math.max(1, floats) + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
        if (used + n > chunkFloats) {
            if (chunkFloats > 0) retired.add(chunk);
            chunkFloats = Math.max(Math.max(MIN_CHUNK_FLOATS, n), 2 * chunkFloats);
            chunk = dev.alloc(4 * chunkFloats);
            used = 0;
        }
        long at = chunk + 4 * used;
        used += n;
        return at;
    }

    /** The step is over: everything taken is free again. */
    void reset() {
        if (!retired.isEmpty()) {
            dev.sync();
            for (long p : retired) dev.free(p);
            retired.clear();
        }
        used = 0;
    }

    /** Chunks waiting for the end of the step. */
    List<Long> retired() {
        return retired;
    }

    /** Floats of the current chunk. */
    long chunkFloats() {
        return chunkFloats;
    }
}
