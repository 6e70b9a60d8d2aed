package dev.exegpt.job.kafka;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Prompt text of a requested length for load generation: common English words that the GPT-2 BPE encodes as one
 * token each (with their leading space), so that a prompt of n words is n tokens. The words are drawn once into a
 * pool; a prompt is a word-aligned slice of it, which keeps generation cheap enough for bulk sends.
 */
public final class SyntheticPrompts {

    /** Every entry encodes to exactly one GPT-2 BPE token, leading space included (checked by a test). */
    public static final List<String> WORDS = List.of(
            "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
            "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they",
            "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when",
            "will", "would", "who", "so", "no", "she", "other", "its", "time", "may", "only", "new", "some",
            "could", "these", "two", "first", "then", "do", "any", "like", "my", "now", "over", "such", "our",
            "man", "me", "even", "most", "made", "after", "also", "did", "many", "before", "must", "through",
            "years", "where", "much", "your", "way", "well", "down", "should", "because", "each", "just", "those",
            "people", "how", "too", "little", "state", "good", "very", "make", "world", "still", "own", "see",
            "men", "work", "long", "get", "here", "between", "both", "life", "being", "under", "never", "day",
            "same", "another", "know", "while", "last", "might", "us", "great", "old", "year", "off", "come",
            "since", "against", "go", "right", "used", "take", "three");

    private static final int POOL_WORDS = 1 << 16;

    private final String pool;
    private final int[] wordStarts;   // (POOL_WORDS + 1) char offsets; wordStarts[i] is where word i begins (its space)

    public SyntheticPrompts(RandomGenerator random) {
        StringBuilder text = new StringBuilder(POOL_WORDS * 6);
        wordStarts = new int[POOL_WORDS + 1];
        for (int i = 0; i < POOL_WORDS; i++) {
            wordStarts[i] = text.length();
            text.append(' ').append(WORDS.get(random.nextInt(WORDS.size())));
        }
        wordStarts[POOL_WORDS] = text.length();
        pool = text.toString();
    }

    /** About {@code numTokens} GPT-2 tokens of text (exactly, for lengths up to the pool size of 65,536 words). */
    public String text(int numTokens, RandomGenerator random) {
        if (numTokens <= 0) {
            return "";
        }
        if (numTokens > POOL_WORDS) {
            StringBuilder joined = new StringBuilder();
            for (int left = numTokens; left > 0; left -= POOL_WORDS) {
                joined.append(text(Math.min(left, POOL_WORDS), random));
                if (left > POOL_WORDS) {
                    joined.append(' ');
                }
            }
            return joined.toString();
        }
        int first = random.nextInt(POOL_WORDS - numTokens + 1);
        // Drop the leading space: the first word then encodes without it, still one token.
        return pool.substring(wordStarts[first] + 1, wordStarts[first + numTokens]);
    }
}
