package dev.exegpt.runtime.engine;

import java.util.List;

/**
 * What an executor drives, one step at a time (DESIGN.md §4, "Engine"): encode a batch, decode one iteration of the
 * active sequences, release or move a sequence's state. {@link Engine} is the real one; a test may give an executor
 * a deterministic engine whose step times come from a cost model, to check that the executor takes the steps the
 * simulator takes.
 */
public interface StepEngine {

    /** Encoder pass (encoder-decoder) or prompt prefill (decoder-only) of a batch; see {@link EncodeResult}. */
    EncodeResult encode(List<GenerationRequest> batch);

    /** One decode iteration of every given sequence; returns the token each produced (an array it may reuse next call). */
    int[] decode(List<Sequence> active);

    /** Frees a finished (or abandoned) sequence's state. */
    void release(Sequence s);

    /** A sequence's state as bytes, for a decoder group elsewhere (WAA's hand-over). */
    byte[] exportState(Sequence s);

    /** A sequence from bytes {@link #exportState} wrote. */
    Sequence importState(byte[] bytes);
}
