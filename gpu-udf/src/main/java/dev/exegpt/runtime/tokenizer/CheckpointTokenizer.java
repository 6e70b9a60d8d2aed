package dev.exegpt.runtime.tokenizer;

import dev.exegpt.runtime.weights.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tokenizer of a Hugging Face checkpoint directory, from the first of: {@code tokenizer.json};
 * {@code vocab.json} + {@code merges.txt} (GPT-2, OPT: converted to a byte-level BPE); {@code spiece.model} (T5:
 * a Unigram SentencePiece, converted as transformers' {@code T5Tokenizer} does). Special tokens come from
 * {@code config.json}, {@code generation_config.json}, {@code tokenizer_config.json} and
 * {@code special_tokens_map.json}.
 */
public final class CheckpointTokenizer {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointTokenizer.class);

    /** What a checkpoint may hold for its tokenizer, for error messages. */
    public static final String SUPPORTED = "tokenizer.json, vocab.json + merges.txt (byte-level BPE) or spiece.model"
            + " (Unigram SentencePiece)";

    private CheckpointTokenizer() {}

    /** Whether dir holds a tokenizer this class can load. */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve("tokenizer.json"))
                || (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt")))
                || Files.isRegularFile(dir.resolve("spiece.model"));
    }

    /** Loads the tokenizer of the checkpoint in dir; fails naming the directory and what is supported. */
    public static Tokenizer load(Path dir) throws IOException {
        Map<String, Object> config = readObject(dir.resolve("config.json"));
        Map<String, Object> tokConfig = readObject(dir.resolve("tokenizer_config.json"));
        Map<String, Object> specialMap = readObject(dir.resolve("special_tokens_map.json"));
        String json;
        String source;
        try {
            if (Files.isRegularFile(dir.resolve("tokenizer.json"))) {
                source = "tokenizer.json";
                json = Files.readString(dir.resolve("tokenizer.json"));
            } else if (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"))) {
                source = "vocab.json + merges.txt";
                json = Json.write(fromVocabAndMerges(dir, tokConfig, specialMap));
            } else if (Files.isRegularFile(dir.resolve("spiece.model"))) {
                source = "spiece.model";
                int extraIds = intOr(tokConfig.get("extra_ids"), 100);
                String eos = tokenText(tokConfig, specialMap, "eos_token", "</s>");
                json = Json.write(SentencePieceModel.parse(Files.readAllBytes(dir.resolve("spiece.model")))
                        .t5TokenizerJson(extraIds, eos));
            } else {
                throw new IOException(dir + ": no tokenizer (expected " + SUPPORTED + ")");
            }
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new IOException(dir + ": tokenizer: " + e.getMessage(), e);
        }
        Map<String, Object> parsed = Json.parseObject(json);
        SpecialTokens specials = SpecialTokenReader.read(dir, config, tokConfig, specialMap, parsed);
        LOG.info("tokenizer of {} from {}: {}", dir, source, specials);
        return new HfTokenizer(json, specials);
    }

    /** OPT and GPT-2 checkpoints published before tokenizer.json: their vocabulary and merges, as transformers reads them. */
    private static Map<String, Object> fromVocabAndMerges(Path dir,
            Map<String, Object> tokConfig, Map<String, Object> specialMap) throws IOException {
        ByteLevelBpe bpe = ByteLevelBpe.fromFiles(Json.parseObject(Files.readString(dir.resolve("vocab.json"))),
                Files.readString(dir.resolve("merges.txt")));
        List<ByteLevelBpe.AddedToken> added = new ArrayList<>();
        for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            String text = tokenText(tokConfig, specialMap, key, null);
            Integer id = text == null ? null : bpe.vocab().get(text);
            if (id != null && added.stream().noneMatch(a -> a.id() == id)) added.add(new ByteLevelBpe.AddedToken(id, text));
        }
        // OPT's tokenizer_config.json sets add_bos_token (BOS "</s>", id 2, before every prompt); GPT-2's does not, and
        // transformers adds none without it.
        boolean addBos = Boolean.TRUE.equals(tokConfig.get("add_bos_token"));
        String bos = tokenText(tokConfig, specialMap, "bos_token", null);
        Integer bosId = bos == null ? null : bpe.vocab().get(bos);
        if (addBos && bosId == null) throw new IOException(dir + ": add_bos_token is set but bos_token " + bos
                + " is not in vocab.json");
        return bpe.tokenizerJson(added, addBos ? bosId : -1, bos);
    }

    /** The text of a special token in tokenizer_config.json or special_tokens_map.json (a string or {content: ...}). */
    static String tokenText(Map<String, Object> tokConfig, Map<String, Object> specialMap, String key, String dflt) {
        for (Map<String, Object> m : List.of(tokConfig, specialMap)) {
            Object v = m.get(key);
            if (v instanceof String s) return s;
            if (v instanceof Map<?, ?> obj && obj.get("content") instanceof String s) return s;
        }
        return dflt;
    }

    static Map<String, Object> readObject(Path file) throws IOException {
        if (!Files.isRegularFile(file)) return Map.of();
        try {
            return Json.parseObject(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    static int intOr(Object v, int dflt) {
        if (v instanceof Number n) return n.intValue();
        if (v instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Number n) return n.intValue();
        return dflt;
    }
}
