package dev.exegpt.runtime.tokenizer;

/**
 * Text to the token ids a model takes, and back. The ids are the checkpoint's own: {@link CheckpointTokenizer} reads
 * them from the checkpoint directory ({@code tokenizer.json}, {@code vocab.json} + {@code merges.txt} or
 * {@code spiece.model}), never from a fixed vocabulary (DESIGN.md §4).
 */
public interface Tokenizer extends AutoCloseable {

    /** The prompt's ids as the model takes them, with the special tokens the checkpoint adds (OPT's BOS, T5's EOS). */
    int[] encode(String text);

    /** Text of the ids, leaving out special tokens and ids the vocabulary does not hold. */
    String decode(int[] ids);

    /** BOS, EOS, pad, unknown, decoder start and sentinels, as the checkpoint's configs name them. */
    SpecialTokens specialTokens();

    /** Frees native memory, if any; encode and decode must not be called afterwards. */
    @Override
    default void close() {}
}
