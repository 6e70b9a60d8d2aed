package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.model.SequenceState;
import java.util.Arrays;

/**
 * A sequence an engine holds: its request, the tokens generated so far, and (inside the engine) its state. Owned by
 * one engine; {@link Engine#release} frees its state bytes, {@link Engine#exportState} moves it elsewhere.
 */
public final class Sequence {
    final Engine owner;
    private final GenerationRequest request;
    private final int[] prompt;
    final SequenceState state;
    final long stateBytes;
    /** Sized for the whole request up to {@link #PRESIZED_TOKENS}, so that a decode step does not grow it. */
    private int[] generated;
    private int numGenerated;
    private FinishReason finishReason;
    float[] lastLogits;                    // (vocab), only when the engine keeps logits
    boolean released;

    Sequence(Engine owner, GenerationRequest request, int[] prompt, SequenceState state, long stateBytes) {
        this.owner = owner;
        this.request = request;
        this.prompt = prompt;
        this.state = state;
        this.stateBytes = stateBytes;
        this.generated = new int[Math.max(1, Math.min(request.maxNewTokens(), PRESIZED_TOKENS))];
    }

    /** Generated tokens a sequence has room for from the start (4 bytes each); a longer one doubles its array. */
    static final int PRESIZED_TOKENS = 4096;

    /**
     * A sequence of an engine other than {@link Engine} (a {@link StepEngine} that computes no state, such as a test's
     * clocked engine): it holds the request and the tokens that engine {@link #record}s.
     */
    public static Sequence detached(GenerationRequest request, int[] prompt) {
        return new Sequence(null, request, prompt.clone(), null, 0);
    }

    /** Records a generated token of a {@link #detached} sequence, finishing it as {@link Engine} would. */
    public void record(int token, int eosTokenId) {
        if (owner != null) {
            throw new IllegalStateException("sequence " + requestId() + " belongs to an engine: only it appends tokens");
        }
        append(token, eosTokenId);
    }

    public String requestId() { return request.requestId(); }

    public GenerationRequest request() { return request; }

    /** The prompt tokens.*/
    public int[] promptTokens() { return prompt.clone(); }

    /** Tokens generated so far, including the EOS that ended the sequence. */
    public int[] generatedTokens() { return Arrays.copyOf(generated, numGenerated); }

    public int numGenerated() { return numGenerated; }

    /** Null while the sequence runs. */
    public FinishReason finishReason() { return finishReason; }

    public boolean isFinished() { return finishReason != null; }

    /** Bytes of state the engine charged for this sequence. */
    public long stateBytes() { return stateBytes; }

    /** The logits that chose the last token, when the engine keeps them; null otherwise. */
    public float[] lastLogits() { return lastLogits; }

    int lastToken() { return generated[numGenerated - 1]; }

    void append(int token, int eosTokenId) {
        if (numGenerated == generated.length) generated = Arrays.copyOf(generated, Math.max(8, numGenerated * 2));
        generated[numGenerated++] = token;
        if (token == eosTokenId && !request.ignoreEos()) finishReason = FinishReason.EOS;
        else if (numGenerated >= request.maxNewTokens()) finishReason = FinishReason.LENGTH;
    }

    void restore(int[] tokens, FinishReason reason) {
        generated = Arrays.copyOf(tokens, Math.max(8, tokens.length));
        numGenerated = tokens.length;
        finishReason = reason;
    }
}
