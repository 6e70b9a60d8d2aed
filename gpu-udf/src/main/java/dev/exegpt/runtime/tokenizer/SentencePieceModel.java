package dev.exegpt.runtime.tokenizer;

import static dev.exegpt.runtime.Require.require;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece model file ({@code spiece.model}: the {@code ModelProto} protocol buffer of
 * sentencepiece_model.proto), read far enough to convert a Unigram model into the {@code tokenizer.json} that
 * transformers' {@code T5Tokenizer} builds from it.
 *
 * @param pieces the vocabulary in id order
 * @param unigram the trainer's model type is UNIGRAM (T5, mT5, ALBERT); BPE models (Llama 1/2) are not converted here
 * @param unkId id of the unknown piece
 * @param byteFallback unknown characters become byte pieces
 * @param precompiledCharsmap the normalizer's compiled rules (NFKC and friends), empty for identity
 */
public record SentencePieceModel(List<Piece> pieces, boolean unigram, int unkId, boolean byteFallback,
                                 byte[] precompiledCharsmap) {

    /** Piece types of sentencepiece_model.proto. */
    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /** One vocabulary entry: its text ("▁" for a space), log-probability and type. */
    public record Piece(String piece, float score, int type) {}

    /** Parses the file's bytes. */
    public static SentencePieceModel parse(byte[] bytes) {
        Proto top = new Proto(bytes, 0, bytes.length);
        List<Piece> pieces = new ArrayList<>();
        int modelType = 1;
        int unkId = 0;
        boolean byteFallback = false;
        byte[] charsmap = new byte[0];
        while (top.more()) {
            int key = top.varint32();
            int field = key >>> 3;
            if (field == 1) {
                pieces.add(piece(top.message()));
            } else if (field == 2) {
                Proto trainer = top.message();
                while (trainer.more()) {
                    int k = trainer.varint32();
                    switch (k >>> 3) {
                        case 3 -> modelType = trainer.varint32();
                        case 35 -> byteFallback = trainer.varint32() != 0;
                        case 40 -> unkId = trainer.varint32();
                        default -> trainer.skip(k & 7);
                    }
                }
            } else if (field == 3) {
                Proto normalizer = top.message();
                while (normalizer.more()) {
                    int k = normalizer.varint32();
                    if (k >>> 3 == 2) charsmap = normalizer.bytes();
                    else normalizer.skip(k & 7);
                }
            } else {
                top.skip(key & 7);
            }
        }
        require(!pieces.isEmpty(), "spiece.model: no pieces (not a SentencePiece model?)");
        return new SentencePieceModel(pieces, modelType == 1, unkId, byteFallback, charsmap);
    }

    private static Piece piece(Proto p) {
        String text = "";
        float score = 0;
        int type = NORMAL;
        while (p.more()) {
            int k = p.varint32();
            switch (k >>> 3) {
                case 1 -> text = new String(p.bytes(), java.nio.charset.StandardCharsets.UTF_8);
                case 2 -> score = Float.intBitsToFloat(p.fixed32());
                case 3 -> type = p.varint32();
                default -> p.skip(k & 7);
            }
        }
        return new Piece(text, score, type);
    }

    /**
     * The {@code tokenizer.json} transformers 5 builds for {@code T5Tokenizer} from this file: a Unigram over the
     * pieces followed by {@code <extra_id_(n-1)>} .. {@code <extra_id_0>}, the precompiled normalizer, whitespace
     * split and "▁" prefixes, and {@code </s>} appended to every encoding.
     */
    public Map<String, Object> t5TokenizerJson(int numExtraIds, String eosPiece) {
        require(unigram, "spiece.model: the model type is not UNIGRAM; only T5-style Unigram models are converted "
                + "(a checkpoint with a BPE SentencePiece model needs its tokenizer.json)");
        List<Object> vocab = new ArrayList<>();
        List<Object> added = new ArrayList<>();
        int eosId = -1;
        for (int id = 0; id < pieces.size(); id++) {
            Piece p = pieces.get(id);
            vocab.add(List.of(p.piece(), (double) p.score()));
            if (p.type() == CONTROL || p.type() == UNKNOWN) added.add(TokenizerJson.addedToken(id, p.piece()));
            if (p.piece().equals(eosPiece)) eosId = id;
        }
        require(eosId >= 0, "spiece.model: no piece %s for the end of sequence", eosPiece);
        for (int i = numExtraIds - 1; i >= 0; i--) {
            added.add(TokenizerJson.addedToken(vocab.size(), "<extra_id_" + i + ">"));
            vocab.add(List.of("<extra_id_" + i + ">", 0.0));
        }
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("version", "1.0");
        j.put("truncation", null);
        j.put("padding", null);
        j.put("added_tokens", added);
        j.put("normalizer", precompiledCharsmap.length == 0 ? null
                : Map.of("type", "Precompiled",
                        "precompiled_charsmap", Base64.getEncoder().encodeToString(precompiledCharsmap)));
        j.put("pre_tokenizer", Map.of("type", "Sequence", "pretokenizers", List.of(
                Map.of("type", "WhitespaceSplit"), metaspace())));
        j.put("post_processor", TokenizerJson.template(List.of("$A", eosPiece), Map.of(eosPiece, eosId)));
        j.put("decoder", metaspace());
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "Unigram");
        model.put("unk_id", unkId);
        model.put("vocab", vocab);
        model.put("byte_fallback", false);
        j.put("model", model);
        return j;
    }

    private static Map<String, Object> metaspace() {
        return Map.of("type", "Metaspace", "replacement", "▁", "prepend_scheme", "always", "split", true);
    }

    /** A protocol buffer message: varints, fixed32 and length-delimited fields over a byte range. */
    private static final class Proto {
        private final byte[] buf;
        private int pos;
        private final int end;

        Proto(byte[] buf, int pos, int end) {
            this.buf = buf;
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                require(pos < end, "spiece.model: truncated varint at byte %s", pos);
                byte b = buf[pos++];
                v |= (long) (b & 0x7f) << shift;
                if (b >= 0) return v;
            }
            throw new IllegalArgumentException("spiece.model: varint longer than 10 bytes at byte " + pos);
        }

        int varint32() {
            return (int) varint();
        }

        int fixed32() {
            require(pos + 4 <= end, "spiece.model: truncated fixed32 at byte %s", pos);
            int v = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
            pos += 4;
            return v;
        }

        byte[] bytes() {
            int len = varint32();
            require(len >= 0 && pos + len <= end, "spiece.model: field of %s bytes overruns its message at %s", len, pos);
            byte[] b = java.util.Arrays.copyOfRange(buf, pos, pos + len);
            pos += len;
            return b;
        }

        Proto message() {
            int len = varint32();
            require(len >= 0 && pos + len <= end, "spiece.model: message of %s bytes overruns at %s", len, pos);
            Proto p = new Proto(buf, pos, pos + len);
            pos += len;
            return p;
        }

        void skip(int wireType) {
            switch (wireType) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> pos += varint32();
                case 5 -> pos += 4;
                default -> throw new IllegalArgumentException("spiece.model: wire type " + wireType + " at byte " + pos);
            }
        }
    }
}
