package dev.exegpt.runtime.model;

import java.util.Map;

/** A parsed {@code config.json} with typed reads and defaults, for the families' config readers. */
public record ConfigJson(Map<String, Object> map) {

    public String str(String key, String dflt) {
        Object v = map.get(key);
        return v == null ? dflt : v.toString();
    }

    public int num(String key, int dflt) {
        Object v = map.get(key);
        return v instanceof Number n ? n.intValue() : dflt;
    }

    public double dbl(String key, double dflt) {
        Object v = map.get(key);
        return v instanceof Number n ? n.doubleValue() : dflt;
    }

    public boolean bool(String key, boolean dflt) {
        Object v = map.get(key);
        return v instanceof Boolean b ? b : dflt;
    }

    /** Whether the key is present with a non-null value. */
    public boolean has(String key) {
        return map.get(key) != null;
    }
}
