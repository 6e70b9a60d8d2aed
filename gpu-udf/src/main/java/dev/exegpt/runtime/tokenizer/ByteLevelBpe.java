package dev.exegpt.runtime.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE (GPT-2, OPT, RoBERTa) written as the {@code tokenizer.json} that Hugging Face's tokenizers
 * library reads: from a checkpoint's {@code vocab.json} + {@code merges.txt}, or GPT-2's own ranks from jtokkit's
 * {@code r50k_base.tiktoken}, for the checkpoints this project writes.
 *
 * @param vocab token (in GPT-2's byte-to-unicode alphabet) to id
 * @param merges the merges in priority order, each a pair of tokens
 */
public record ByteLevelBpe(Map<String, Integer> vocab, List<String[]> merges) {

    /** GPT-2's {@code <|endoftext|>}, the one special token of its BPE, at id 50256. */
    public static final String GPT2_END_OF_TEXT = "<|endoftext|>";

    /** One special token the tokenizer matches in text before the BPE and leaves out of decoded text. */
    public record AddedToken(int id, String content) {}

    /** Reads a {@code vocab.json} (token to id) and a {@code merges.txt} (a {@code #version} line, then "a b" lines). */
    public static ByteLevelBpe fromFiles(Map<String, Object> vocabJson, String mergesTxt) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        vocabJson.forEach((k, v) -> vocab.put(k, ((Number) v).intValue()));
        List<String[]> merges = new ArrayList<>();
        for (String line : mergesTxt.split("\n")) {
            String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (l.isEmpty() || l.startsWith("#version")) continue;
            int space = l.indexOf(' ');
            if (space <= 0) throw new IllegalArgumentException("merges.txt line '" + l + "': expected two tokens");
            merges.add(new String[] {l.substring(0, space), l.substring(space + 1)});
        }
        return new ByteLevelBpe(vocab, merges);
    }

    /**
     * GPT-2's BPE (50,257 ids, {@code <|endoftext|>} at 50256) rebuilt from jtokkit's ranks: each token's merge is
     * the last step of byte-pair encoding its own bytes with the lower ranks, as tiktoken would, which gives one merge
     * per token in rank order, GPT-2's {@code merges.txt}.
     */
    public static ByteLevelBpe gpt2() {
        Map<ByteKey, Integer> ranks = readTiktoken("/com/knuddels/jtokkit/r50k_base.tiktoken");
        String[] byName = new String[ranks.size()];
        ranks.forEach((k, r) -> byName[r] = toUnicode(k.bytes));
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int id = 0; id < byName.length; id++) vocab.put(byName[id], id);
        vocab.put(GPT2_END_OF_TEXT, byName.length);
        byte[][] byRank = new byte[ranks.size()][];
        ranks.forEach((k, r) -> byRank[r] = k.bytes);
        List<String[]> merges = new ArrayList<>();
        for (int r = 0; r < byRank.length; r++) {
            if (byRank[r].length < 2) continue;
            int split = lastMergeSplit(byRank[r], r, ranks);
            merges.add(new String[] {toUnicode(java.util.Arrays.copyOfRange(byRank[r], 0, split)),
                    toUnicode(java.util.Arrays.copyOfRange(byRank[r], split, byRank[r].length))});
        }
        return new ByteLevelBpe(vocab, merges);
    }

    /**
     * The {@code tokenizer.json} of this BPE as GPT-2's converter in transformers writes it. bosId (-1: none) is
     * prepended to every encoding as OPT's tokenizer does; added tokens become special tokens.
     */
    public Map<String, Object> tokenizerJson(List<AddedToken> added, int bosId, String bosContent) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("version", "1.0");
        j.put("truncation", null);
        j.put("padding", null);
        List<Object> addedJson = new ArrayList<>();
        for (AddedToken t : added) addedJson.add(TokenizerJson.addedToken(t.id(), t.content()));
        j.put("added_tokens", addedJson);
        j.put("normalizer", null);
        j.put("pre_tokenizer", byteLevel(false, true));
        j.put("post_processor", bosId < 0 ? byteLevel(true, false)
                : TokenizerJson.template(List.of(bosContent, "$A"), Map.of(bosContent, bosId)));
        j.put("decoder", byteLevel(true, true));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        model.put("vocab", vocab);
        List<Object> mergeJson = new ArrayList<>(merges.size());
        for (String[] m : merges) mergeJson.add(List.of(m[0], m[1]));
        model.put("merges", mergeJson);
        j.put("model", model);
        return j;
    }

    private static Map<String, Object> byteLevel(boolean addPrefixSpace, boolean trimOffsets) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("type", "ByteLevel");
        p.put("add_prefix_space", addPrefixSpace);
        p.put("trim_offsets", trimOffsets);
        p.put("use_regex", true);
        return p;
    }

    /** Byte-pair encodes bytes with the ranks below maxRank; returns where the final two parts meet. */
    private static int lastMergeSplit(byte[] bytes, int maxRank, Map<ByteKey, Integer> ranks) {
        List<byte[]> parts = new ArrayList<>();
        for (byte b : bytes) parts.add(new byte[] {b});
        while (parts.size() > 2) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = ranks.get(new ByteKey(concat(parts.get(i), parts.get(i + 1))));
                if (r != null && r < maxRank && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) throw new IllegalStateException("r50k_base: no merge path to rank " + maxRank);
            parts.set(best, concat(parts.get(best), parts.remove(best + 1)));
        }
        return parts.get(0).length;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static Map<ByteKey, Integer> readTiktoken(String resource) {
        Map<ByteKey, Integer> ranks = new HashMap<>();
        try (InputStream in = ByteLevelBpe.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException(resource + ": not on the class path (jtokkit missing?)");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) continue;
                int space = line.indexOf(' ');
                ranks.put(new ByteKey(Base64.getDecoder().decode(line.substring(0, space))),
                        Integer.parseInt(line.substring(space + 1).trim()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(resource, e);
        }
        return ranks;
    }

    /** GPT-2's byte-to-unicode table: printable bytes stand for themselves, the rest move to 256 and up. */
    static String toUnicode(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(BYTE_TO_CHAR[b & 0xff]);
        return sb.toString();
    }

    private static final char[] BYTE_TO_CHAR = byteToChar();

    private static char[] byteToChar() {
        char[] table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
            table[b] = printable ? (char) b : (char) next++;
        }
        return table;
    }

    private record ByteKey(byte[] bytes) {
        @Override public boolean equals(Object o) {
            return o instanceof ByteKey k && java.util.Arrays.equals(bytes, k.bytes);
        }

        @Override public int hashCode() {
            return java.util.Arrays.hashCode(bytes);
        }
    }
}
