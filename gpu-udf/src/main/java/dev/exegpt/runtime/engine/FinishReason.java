package dev.exegpt.runtime.engine;

/** Why a sequence stopped. */
public enum FinishReason {
    /** The model produced its end-of-sequence token. */
    EOS,
    /** maxNewTokens were produced (always the case in fixed-length mode). */
    LENGTH
}
