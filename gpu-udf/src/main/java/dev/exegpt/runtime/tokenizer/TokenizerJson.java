package dev.exegpt.runtime.tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pieces of Hugging Face's {@code tokenizer.json} (the serialization of the tokenizers library) that the converters
 * here write, and the lookups that read one: the id of a token by its text, among the added tokens and the model's
 * vocabulary.
 */
final class TokenizerJson {
    private TokenizerJson() {}

    /** An entry of {@code added_tokens}: matched whole in text before the model, special (skipped when decoding). */
    static Map<String, Object> addedToken(int id, String content) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("id", id);
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
        return t;
    }

    /**
     * A {@code TemplateProcessing} post-processor for single sequences: items are "$A" (the text's ids) or the content
     * of a special token whose id is in specialIds. Pairs repeat the template for the second sequence.
     */
    static Map<String, Object> template(List<String> items, Map<String, Integer> specialIds) {
        List<Object> single = new ArrayList<>();
        List<Object> pair = new ArrayList<>();
        for (String item : items) single.add(templateItem(item, "A", 0));
        pair.addAll(single);
        for (String item : items) pair.add(templateItem(item, "B", 1));
        Map<String, Object> specials = new LinkedHashMap<>();
        specialIds.forEach((content, id) -> {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("id", content);
            s.put("ids", List.of(id));
            s.put("tokens", List.of(content));
            specials.put(content, s);
        });
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("type", "TemplateProcessing");
        p.put("single", single);
        p.put("pair", pair);
        p.put("special_tokens", specials);
        return p;
    }

    private static Map<String, Object> templateItem(String item, String sequence, int typeId) {
        if (item.equals("$A")) return Map.of("Sequence", Map.of("id", sequence, "type_id", typeId));
        return Map.of("SpecialToken", Map.of("id", item, "type_id", typeId));
    }

    /** The id of a token's text: an added token first, then the model's vocabulary (a map, or Unigram's list); -1. */
    @SuppressWarnings("unchecked")
    static int idOf(Map<String, Object> tokenizerJson, String content) {
        if (content == null) return -1;
        Object added = tokenizerJson.get("added_tokens");
        if (added instanceof List<?> list) {
            for (Object o : list) {
                Map<String, Object> t = (Map<String, Object>) o;
                if (content.equals(t.get("content"))) return ((Number) t.get("id")).intValue();
            }
        }
        Object model = tokenizerJson.get("model");
        if (!(model instanceof Map<?, ?> m)) return -1;
        Object vocab = m.get("vocab");
        if (vocab instanceof Map<?, ?> v) {
            Object id = v.get(content);
            return id instanceof Number n ? n.intValue() : -1;
        }
        if (vocab instanceof List<?> pieces) {                      // Unigram: [[piece, score], ...], id = index
            for (int i = 0; i < pieces.size(); i++) {
                if (pieces.get(i) instanceof List<?> p && content.equals(p.get(0))) return i;
            }
        }
        return -1;
    }
}
