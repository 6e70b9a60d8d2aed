package dev.exegpt.operators.core;

/** Turns prompt text into the model's token ids (the runtime's tokenizer behind a small seam). */
@FunctionalInterface
public interface PromptTokenizer {
    int[] encode(String text);
}
