package dev.exegpt.job.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Synthetic prompts have the sampled length in GPT-2 BPE tokens, the tokenizer the models use. */
class SyntheticPromptsTest {

    private static final Encoding GPT2 = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    @Test
    void everyWordShouldBeOneTokenWithAndWithoutItsLeadingSpace() {
        List<String> notOneToken = SyntheticPrompts.WORDS.stream()
                .filter(word -> GPT2.countTokens(" " + word) != 1 || GPT2.countTokens(word) != 1)
                .toList();
        assertEquals(List.of(), notOneToken, "words that are not one token");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 17, 512, 4142})
    void shouldProduceTextOfTheRequestedTokenCount(int numTokens) {
        RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(7);
        SyntheticPrompts prompts = new SyntheticPrompts(random);
        for (int i = 0; i < 5; i++) {
            assertEquals(numTokens, GPT2.countTokens(prompts.text(numTokens, random)));
        }
    }
}
