package dev.exegpt.runtime.engine;

import static dev.exegpt.runtime.Require.require;

/**
 * One sequence to generate. Limits that depend on the model (vocabulary, positions, max new tokens) are checked by
 * {@link Engine#encode}, which rejects this request alone and goes on with the rest of the batch.
 *
 * @param requestId names the request in results and errors
 * @param promptTokens token ids of the prompt, as the model takes them (for OPT, starting with BOS as Hugging Face's
 *     tokenizer adds it; {@code BpeTokenizer} does)
 * @param maxNewTokens tokens to generate at most
 * @param ignoreEos fixed-length mode: produce exactly maxNewTokens tokens, as vLLM's throughput benchmark does
 */
public record GenerationRequest(String requestId, int[] promptTokens, int maxNewTokens, boolean ignoreEos) {

    public GenerationRequest {
        require(requestId != null && !requestId.isEmpty(), "requestId: must be a non-empty string");
        require(promptTokens != null, "request %s: promptTokens must not be null", requestId);
    }
}
