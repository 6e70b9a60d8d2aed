package dev.exegpt.runtime.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;

/**
 * Text to token ids and back with GPT-2's byte-pair encoding ({@code r50k_base} from jtokkit, 50,257 ids). For OPT
 * the prompt starts with BOS, as Hugging Face's OPT tokenizer does. Ids the BPE does not know (OPT pads the
 * vocabulary to 50,272) decode to nothing.
 */
public final class BpeTokenizer {
    /** Ids of the GPT-2 BPE, {@code <|endoftext|>} included. */
    public static final int BPE_VOCAB_SIZE = 50257;

    private final Encoding encoding = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    private final ModelConfig config;

    public BpeTokenizer(ModelConfig config) {
        this.config = config;
    }

    /** The prompt's token ids as the model takes them. */
    public int[] encode(String text) {
        int[] ids = encoding.encodeOrdinary(text).toArray();
        if (config.architecture() != Architecture.OPT || config.bosTokenId() < 0) return ids;
        int[] withBos = new int[ids.length + 1];
        withBos[0] = config.bosTokenId();
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return withBos;
    }

    /** Text of the ids, leaving out ids outside the BPE vocabulary. */
    public String decode(int[] ids) {
        IntArrayList list = new IntArrayList(ids.length);
        for (int id : ids) if (id >= 0 && id < BPE_VOCAB_SIZE) list.add(id);
        return encoding.decode(list);
    }
}
