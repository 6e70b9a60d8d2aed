package dev.exegpt.scheduler.cost;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The paper's six models (its Table 1, PAPER.md §12.2), by name, FFN = 4 x hidden for OPT and GPT-3; and a few
 * published Llama-family models (grouped-query attention: fewer KV heads, a smaller KV cache).
 */
public final class ModelSpecs {
    private static final Map<String, ModelSpec> BY_NAME = new LinkedHashMap<>();

    static {
        // T5-11B: d_model 1024, 128 heads x 128 = 16384-wide attention, FFN 65536, 24 + 24 layers (Raffel et al.).
        add(new ModelSpec("t5-11b", true, 24, 24, 1024, 128, 128, 65536, 32128, false));
        add(new ModelSpec("opt-13b", false, 0, 40, 5120, 40, 128, 20480, 50272, false));
        add(new ModelSpec("gpt3-39b", false, 0, 48, 8192, 64, 128, 32768, 50257, false));
        add(new ModelSpec("gpt3-101b", false, 0, 80, 10240, 80, 128, 40960, 50257, false));
        add(new ModelSpec("gpt3-175b", false, 0, 96, 12288, 96, 128, 49152, 50257, false));
        add(new ModelSpec("gpt3-341b", false, 0, 120, 15360, 120, 128, 61440, 50257, false));
        // The model the A100 calibration data was measured on (vidur): used only to check the roofline.
        // Llama family, from each model's config.json on the Hugging Face Hub (hidden_size, num_attention_heads,
        // head_dim = hidden / heads unless given, intermediate_size, num_hidden_layers, vocab_size,
        // num_key_value_heads). SwiGLU feed-forward (gated), RoPE, RMSNorm; several use grouped-query attention.
        // meta-llama/Llama-2-7b-hf: 4096, 32 heads, 11008, 32 layers, vocab 32000, multi-head (32 KV heads).
        add(new ModelSpec("llama2-7b", false, 0, 32, 4096, 32, 128, 11008, 32000, true, 32));
        // meta-llama/Llama-2-70b-hf: 8192, 64 heads, 28672, 80 layers, vocab 32000, 8 KV heads.
        add(new ModelSpec("llama2-70b", false, 0, 80, 8192, 64, 128, 28672, 32000, true, 8));
        // meta-llama/Meta-Llama-3-8B: 4096, 32 heads, 14336, 32 layers, vocab 128256, 8 KV heads.
        add(new ModelSpec("llama3-8b", false, 0, 32, 4096, 32, 128, 14336, 128256, true, 8));
        // mistralai/Mistral-7B-v0.1: 4096, 32 heads, 14336, 32 layers, vocab 32000, 8 KV heads.
        add(new ModelSpec("mistral-7b", false, 0, 32, 4096, 32, 128, 14336, 32000, true, 8));
        // Qwen/Qwen2-7B: 3584, 28 heads, 18944, 28 layers, vocab 152064, 4 KV heads (q, k, v carry biases).
        add(new ModelSpec("qwen2-7b", false, 0, 28, 3584, 28, 128, 18944, 152064, true, 4));
        // HuggingFaceTB/SmolLM2-135M: 576, 9 heads of 64, 1536, 30 layers, vocab 49152, 3 KV heads, tied head.
        add(new ModelSpec("smollm2-135m", false, 0, 30, 576, 9, 64, 1536, 49152, true, 3));
    }

    private ModelSpecs() {}

    private static void add(ModelSpec m) {
        BY_NAME.put(m.name(), m);
    }

    public static List<String> names() {
        return List.copyOf(BY_NAME.keySet());
    }

    public static ModelSpec byName(String name) {
        ModelSpec m = BY_NAME.get(name.trim().toLowerCase(java.util.Locale.ROOT));
        if (m == null) {
            throw new IllegalArgumentException("unknown model spec '%s': expected one of %s".formatted(name, names()));
        }
        return m;
    }
}
