package dev.exegpt.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.weights.ModelSize;
import org.junit.jupiter.api.Test;

/** GPT-2 BPE ids (r50k_base) in and out; OPT prompts start with BOS. */
class BpeTokenizerTest {

    @Test
    void encodesGpt2IdsAndDecodesBack() {
        BpeTokenizer t5 = new BpeTokenizer(ModelSize.TINY.config(Architecture.T5));
        assertArrayEquals(new int[] {15496, 995}, t5.encode("Hello world"));
        assertEquals("Hello world", t5.decode(t5.encode("Hello world")));
        BpeTokenizer opt = new BpeTokenizer(ModelSize.TINY.config(Architecture.OPT));
        assertArrayEquals(new int[] {2, 15496, 995}, opt.encode("Hello world"));
        assertEquals(" world", opt.decode(new int[] {50260, 995, 50271}));     // padded ids decode to nothing
    }
}
