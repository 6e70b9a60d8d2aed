package dev.exegpt.runtime.tokenizer;

import java.util.List;

/**
 * The special token ids of a checkpoint, read from its configs ({@code config.json}, {@code generation_config.json},
 * {@code tokenizer_config.json}, {@code special_tokens_map.json}) and its tokenizer's vocabulary; -1 where the
 * checkpoint has none.
 *
 * @param bosTokenId beginning of sequence (OPT prepends it to prompts)
 * @param eosTokenId end of sequence: generation stops here
 * @param padTokenId padding
 * @param unkTokenId unknown piece
 * @param decoderStartTokenId the first input of an encoder-decoder's decoder (T5: the pad id)
 * @param sentinelTokenIds T5's {@code <extra_id_0>}, {@code <extra_id_1>}, ... in that order (empty for others)
 */
public record SpecialTokens(int bosTokenId, int eosTokenId, int padTokenId, int unkTokenId, int decoderStartTokenId,
                            List<Integer> sentinelTokenIds) {

    public SpecialTokens {
        sentinelTokenIds = List.copyOf(sentinelTokenIds);
    }
}
