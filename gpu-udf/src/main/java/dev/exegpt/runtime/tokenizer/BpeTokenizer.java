package dev.exegpt.runtime.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import dev.exegpt.runtime.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tokenizer the operators and the job hold, kept under its old name so that its users compile unchanged. Made
 * with {@link #load(Path)} it is the checkpoint's own ({@link CheckpointTokenizer}: tokenizer.json, vocab.json +
 * merges.txt or spiece.model). Made from a {@link ModelConfig} alone, or loaded from a directory that has no tokenizer
 * file (checkpoints written by {@code exegpt model init} before it wrote tokenizer.json), it is GPT-2's byte-pair
 * encoding ({@code r50k_base} from jtokkit, 50,257 ids), with BOS in front of OPT prompts as Hugging Face's OPT
 * tokenizer does; ids the BPE does not know decode to nothing. For the checkpoints this project writes both give the
 * same ids.
 */
public final class BpeTokenizer implements Tokenizer {
    private static final Logger LOG = LoggerFactory.getLogger(BpeTokenizer.class);

    /** Ids of the GPT-2 BPE, {@code <|endoftext|>} included. */
    public static final int BPE_VOCAB_SIZE = 50257;

    private final Tokenizer checkpoint;          // null: GPT-2's BPE through jtokkit
    private final Encoding encoding;
    private final ModelConfig config;

    /** GPT-2's BPE with the config's BOS rule; for models without a directory (tests, in-memory weights). */
    public BpeTokenizer(ModelConfig config) {
        this.checkpoint = null;
        this.encoding = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
        this.config = config;
    }

    private BpeTokenizer(Tokenizer checkpoint) {
        this.checkpoint = checkpoint;
        this.encoding = null;
        this.config = null;
    }

    /** Wraps any tokenizer for the users of this type. */
    public static BpeTokenizer of(Tokenizer tokenizer) {
        return tokenizer instanceof BpeTokenizer b ? b : new BpeTokenizer(tokenizer);
    }

    /** The tokenizer of the checkpoint in dir; GPT-2's BPE, with a warning, when dir holds no tokenizer file. */
    public static BpeTokenizer load(Path dir) throws IOException {
        if (CheckpointTokenizer.present(dir)) return new BpeTokenizer(CheckpointTokenizer.load(dir));
        LOG.warn("{}: no {}; using GPT-2's BPE (r50k_base), as checkpoints of exegpt model init before it wrote "
                + "tokenizer.json: a real checkpoint's ids would be wrong", dir, CheckpointTokenizer.SUPPORTED);
        return new BpeTokenizer(ModelConfig.read(dir));
    }

    /** The prompt's token ids as the model takes them. */
    @Override
    public int[] encode(String text) {
        if (checkpoint != null) return checkpoint.encode(text);
        int[] ids = encoding.encodeOrdinary(text).toArray();
        if (!config.family().prependsBos(config)) return ids;
        int[] withBos = new int[ids.length + 1];
        withBos[0] = config.bosTokenId();
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return withBos;
    }

    /** Text of the ids, leaving out special tokens and ids outside the vocabulary. */
    @Override
    public String decode(int[] ids) {
        if (checkpoint != null) return checkpoint.decode(ids);
        IntArrayList list = new IntArrayList(ids.length);
        // <|endoftext|> (50256, the last id) is r50k's one special token: left out, as the checkpoint tokenizer leaves it out
        for (int id : ids) if (id >= 0 && id < BPE_VOCAB_SIZE - 1) list.add(id);
        return encoding.decode(list);
    }

    @Override
    public SpecialTokens specialTokens() {
        if (checkpoint != null) return checkpoint.specialTokens();
        int pad = config.family().padTokenId(config);
        return new SpecialTokens(config.bosTokenId(), config.eosTokenId(), pad, -1, config.decoderStartTokenId(), List.of());
    }

    @Override
    public void close() {
        if (checkpoint != null) checkpoint.close();
    }
}
