package dev.exegpt.runtime.model.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import dev.exegpt.runtime.weights.Json;
import dev.exegpt.runtime.weights.ModelSize;
import org.junit.jupiter.api.Test;

/** config.json of published Llama-family checkpoints, in the forms transformers 4 and 5 write them. */
class LlamaConfigTest {

    /** meta-llama/Meta-Llama-3-8B-Instruct's config.json (the fields the engine reads). */
    private static final String LLAMA3_8B = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
             "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
             "num_key_value_heads": 8, "max_position_embeddings": 8192, "rms_norm_eps": 1e-05,
             "rope_theta": 500000.0, "rope_scaling": null, "vocab_size": 128256, "tie_word_embeddings": false,
             "bos_token_id": 128000, "eos_token_id": [128001, 128009], "hidden_act": "silu",
             "attention_bias": false, "mlp_bias": false}""";

    @Test
    void shouldReadLlama3WithGroupedQueryAttentionAndAListOfEosIds() {
        ModelConfig c = ModelConfig.fromJson(Json.parseObject(LLAMA3_8B));
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals(128, c.headDim());
        assertEquals(8, c.numKvHeads());
        assertEquals(1024, c.kvDim());
        assertEquals(500000.0, LlamaOptions.of(c).ropeTheta());
        assertEquals(128001, c.eosTokenId());
        assertEquals(128000, c.bosTokenId());
        assertEquals(1e-5f, c.normEps());
        assertEquals(false, c.tieWordEmbeddings());
    }

    @Test
    void shouldReadTransformers5RopeParametersAndMistralWindows() {
        ModelConfig t5Form = ModelConfig.fromJson(Json.parseObject(LLAMA3_8B.replace("\"rope_theta\": 500000.0,",
                "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 1000.0},")));
        assertEquals(1000.0, LlamaOptions.of(t5Form).ropeTheta());
        ModelConfig mistral = ModelConfig.fromJson(Json.parseObject(LLAMA3_8B.replace("\"llama\"", "\"mistral\"")
                .replace("\"max_position_embeddings\": 8192", "\"max_position_embeddings\": 32768, \"sliding_window\": 4096")));
        assertEquals(Architecture.LLAMA, mistral.architecture());
        assertEquals(4096, mistral.maxPositions(), "full attention is exact within the window");
    }

    @Test
    void shouldRefuseWhatItDoesNotComputeNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson(
                Json.parseObject(LLAMA3_8B.replace("\"rope_scaling\": null",
                        "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}"))));
        assertTrue(e.getMessage().contains("llama3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson(
                Json.parseObject(LLAMA3_8B.replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5"))));
        assertTrue(e.getMessage().contains("num_key_value_heads=5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson(
                Json.parseObject(LLAMA3_8B.replace("\"model_type\": \"llama\"", "\"model_type\": \"gpt_neox\""))));
        assertTrue(e.getMessage().contains("llama, mistral, qwen2"), e.getMessage());
    }

    @Test
    void shouldWriteAConfigThatReadsBackAsTheSameModel() {
        for (ModelSize size : ModelSize.values()) {
            ModelConfig c = size.config(Architecture.LLAMA);
            assertEquals(c, ModelConfig.fromJson(Json.parseObject(Json.write(c.toJson()))), size.name());
            assertTrue(c.numKvHeads() < c.numHeads(), size + " uses grouped-query attention");
        }
    }
}
