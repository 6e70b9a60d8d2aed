package dev.exegpt.runtime.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A {@code tokenizer.json} run by Hugging Face's own tokenizers library (Rust, through DJL's JNI binding), so ids
 * are exactly those transformers gives for the same file. Thread-safe: the native tokenizer is immutable.
 */
public final class HfTokenizer implements Tokenizer {
    /** No truncation and no padding: the engine and the request validation decide about lengths. */
    private static final Map<String, String> OPTIONS = Map.of("addSpecialTokens", "true", "truncation", "false",
            "padding", "false", "modelMaxLength", String.valueOf(Integer.MAX_VALUE));

    private final HuggingFaceTokenizer tokenizer;
    private final SpecialTokens specialTokens;

    HfTokenizer(String tokenizerJson, SpecialTokens specialTokens) {
        try {
            this.tokenizer = HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(tokenizerJson.getBytes(StandardCharsets.UTF_8)), OPTIONS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.specialTokens = specialTokens;
    }

    @Override
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, true, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] in = new long[ids.length];
        int n = 0;
        for (int id : ids) if (id >= 0) in[n++] = id;
        return tokenizer.decode(java.util.Arrays.copyOf(in, n), true);
    }

    @Override
    public SpecialTokens specialTokens() {
        return specialTokens;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
