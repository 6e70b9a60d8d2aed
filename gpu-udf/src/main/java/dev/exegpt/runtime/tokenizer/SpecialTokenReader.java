package dev.exegpt.runtime.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a checkpoint's special token ids the way transformers resolves them for generation: an id in
 * {@code generation_config.json} wins over {@code config.json}; where neither has one, the token named in
 * {@code tokenizer_config.json} or {@code special_tokens_map.json} is looked up in the tokenizer.
 */
final class SpecialTokenReader {
    private SpecialTokenReader() {}

    static SpecialTokens read(Path dir, Map<String, Object> config, Map<String, Object> tokConfig,
                              Map<String, Object> specialMap, Map<String, Object> tokenizerJson) throws IOException {
        Map<String, Object> generation = CheckpointTokenizer.readObject(dir.resolve("generation_config.json"));
        List<Integer> sentinels = new ArrayList<>();
        for (int i = 0; ; i++) {
            int id = TokenizerJson.idOf(tokenizerJson, "<extra_id_" + i + ">");
            if (id < 0) break;
            sentinels.add(id);
        }
        return new SpecialTokens(
                id("bos", generation, config, tokConfig, specialMap, tokenizerJson),
                id("eos", generation, config, tokConfig, specialMap, tokenizerJson),
                id("pad", generation, config, tokConfig, specialMap, tokenizerJson),
                TokenizerJson.idOf(tokenizerJson, CheckpointTokenizer.tokenText(tokConfig, specialMap, "unk_token", null)),
                CheckpointTokenizer.intOr(generation.get("decoder_start_token_id"),
                        CheckpointTokenizer.intOr(config.get("decoder_start_token_id"), -1)),
                sentinels);
    }

    private static int id(String name, Map<String, Object> generation, Map<String, Object> config,
                          Map<String, Object> tokConfig, Map<String, Object> specialMap, Map<String, Object> tokenizerJson) {
        String key = name + "_token_id";
        int fromConfigs = CheckpointTokenizer.intOr(generation.get(key), CheckpointTokenizer.intOr(config.get(key), -1));
        if (fromConfigs >= 0) return fromConfigs;
        return TokenizerJson.idOf(tokenizerJson, CheckpointTokenizer.tokenText(tokConfig, specialMap, name + "_token", null));
    }
}
