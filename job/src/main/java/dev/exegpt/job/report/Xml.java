package dev.exegpt.job.report;

import java.util.Locale;

/** Text and attribute escaping for the report's markup (XHTML-compatible, so it parses as XML too). */
final class Xml {

    private Xml() {}

    /** {@code text} safe inside an element or a double-quoted attribute; characters XML forbids become U+FFFD. */
    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(allowed(c) ? c : '\uFFFD');
            }
        }
        return out.toString();
    }

    /** A number for SVG coordinates: two decimals, '.' as separator whatever the locale. */
    static String num(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static boolean allowed(char c) {
        // XML 1.0 Char: tab, newline, carriage return, and everything from U+0020 except U+FFFE and U+FFFF
        // (surrogate halves pass: a pair encodes a supplementary character).
        return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c != 0xFFFE && c != 0xFFFF);
    }
}
