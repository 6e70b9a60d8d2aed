package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.model.SequenceState;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The byte form of a sequence's state (ExeGPT §4.1, PAPER.md §3: under WAA the encoder output or KV cache moves from
 * the encoder group to the decoder group). Layout, little-endian: magic, version, model fingerprint, request, tokens,
 * finish reason, cached length, then the T5 encoder output and (once computed) cross keys and values, then the
 * self-attention keys and values of the cached positions only.
 */
final class StateCodec {
    private static final int MAGIC = 0x45584753;        // "EXGS"
    private static final int VERSION = 1;

    private StateCodec() {}

    record Decoded(GenerationRequest request, int[] generated, FinishReason finishReason, int length,
                   ByteBuffer arrays) {}

    static byte[] encode(ModelConfig c, Sequence s) {
        return encode(c, s, s.state);
    }

    /** Encodes s with its arrays taken from st (the CUDA backend's host copy of the device state). */
    static byte[] encode(ModelConfig c, Sequence s, SequenceState st) {
        byte[] id = s.requestId().getBytes(StandardCharsets.UTF_8);
        int[] prompt = s.request().promptTokens();
        int[] gen = s.generatedTokens();
        int inner = c.kvDim();
        boolean cross = st.encoderLength > 0 && st.length > 0;
        long floats = (long) st.encoderLength * c.dModel()
                + (cross ? 2L * c.numDecoderLayers() * st.encoderLength * inner : 0)
                + 2L * c.numDecoderLayers() * st.length * inner;
        long size = 4L * 16 + id.length + 4L * (prompt.length + gen.length) + 4 * floats;
        if (size > Integer.MAX_VALUE - 8) throw new IllegalStateException("request " + s.requestId()
                + ": state of " + size + " bytes is too large to export in one array");
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt(VERSION);
        b.putInt(c.architecture().ordinal()).putInt(c.dModel()).putInt(c.numDecoderLayers()).putInt(inner);
        b.putInt(id.length).put(id);
        b.putInt(prompt.length);
        for (int t : prompt) b.putInt(t);
        b.putInt(s.request().maxNewTokens()).putInt(s.request().ignoreEos() ? 1 : 0);
        b.putInt(gen.length);
        for (int t : gen) b.putInt(t);
        b.putInt(s.finishReason() == null ? -1 : s.finishReason().ordinal());
        b.putInt(st.length).putInt(st.encoderLength);
        if (st.encoderLength > 0) {
            b.asFloatBuffer().put(st.encoderOutput);
            b.position(b.position() + 4 * st.encoderOutput.length);
            if (cross) {
                for (int l = 0; l < c.numDecoderLayers(); l++) {
                    putFloats(b, st.crossKeys[l], st.encoderLength * inner);
                    putFloats(b, st.crossValues[l], st.encoderLength * inner);
                }
            }
        }
        for (int l = 0; l < c.numDecoderLayers(); l++) {
            putFloats(b, st.selfKeys[l], st.length * inner);
            putFloats(b, st.selfValues[l], st.length * inner);
        }
        return b.array();
    }

    private static void putFloats(ByteBuffer b, float[] a, int len) {
        b.asFloatBuffer().put(a, 0, len);
        b.position(b.position() + 4 * len);
    }

    private static void getFloats(ByteBuffer b, float[] a, int len) {
        b.asFloatBuffer().get(a, 0, len);
        b.position(b.position() + 4 * len);
    }

    static Decoded decode(ModelConfig c, byte[] bytes) {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            if (b.getInt() != MAGIC) throw new IllegalArgumentException("not an exported sequence state (bad magic)");
            int version = b.getInt();
            if (version != VERSION) throw new IllegalArgumentException("state version " + version + ", expected " + VERSION);
            int arch = b.getInt();
            int d = b.getInt();
            int layers = b.getInt();
            int inner = b.getInt();
            if (arch != c.architecture().ordinal() || d != c.dModel() || layers != c.numDecoderLayers() || inner != c.kvDim()) {
                throw new IllegalArgumentException("state is for another model (dModel " + d + ", " + layers
                        + " decoder layers, inner " + inner + "); this engine runs dModel " + c.dModel() + ", "
                        + c.numDecoderLayers() + " layers, kv width " + c.kvDim());
            }
            byte[] id = new byte[b.getInt()];
            b.get(id);
            int[] prompt = new int[b.getInt()];
            for (int i = 0; i < prompt.length; i++) prompt[i] = b.getInt();
            int maxNew = b.getInt();
            boolean ignoreEos = b.getInt() == 1;
            int[] gen = new int[b.getInt()];
            for (int i = 0; i < gen.length; i++) gen[i] = b.getInt();
            int reason = b.getInt();
            int length = b.getInt();
            b.getInt();                                                     // encoder length = prompt length
            GenerationRequest r = new GenerationRequest(new String(id, StandardCharsets.UTF_8), prompt, maxNew, ignoreEos);
            return new Decoded(r, gen, reason < 0 ? null : FinishReason.values()[reason], length, b.slice().order(ByteOrder.LITTLE_ENDIAN));
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("exported sequence state is truncated", e);
        }
    }

    /** Fills the freshly admitted sequence s with the decoded tokens and arrays. */
    static void restore(Decoded d, Sequence s) {
        restore(d, s, s.state);
    }

    /** Fills st (s's state, or a host copy of it that the CUDA backend uploads) and s's tokens. */
    static void restore(Decoded d, Sequence s, SequenceState st) {
        ByteBuffer b = d.arrays();
        int inner = st.selfKeys.length == 0 ? 0 : st.selfKeys[0].length / st.maxPositions;
        try {
            if (st.encoderLength > 0) {
                getFloats(b, st.encoderOutput, st.encoderOutput.length);
                if (d.length() > 0) {
                    for (int l = 0; l < st.crossKeys.length; l++) {
                        getFloats(b, st.crossKeys[l], st.encoderLength * inner);
                        getFloats(b, st.crossValues[l], st.encoderLength * inner);
                    }
                }
            }
            for (int l = 0; l < st.selfKeys.length; l++) {
                getFloats(b, st.selfKeys[l], d.length() * inner);
                getFloats(b, st.selfValues[l], d.length() * inner);
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("request " + s.requestId() + ": exported state is truncated", e);
        }
        st.length = d.length();
        s.state.length = d.length();
        s.restore(d.generated(), d.finishReason());
    }
}
