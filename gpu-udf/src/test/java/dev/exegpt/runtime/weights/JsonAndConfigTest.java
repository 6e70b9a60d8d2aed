package dev.exegpt.runtime.weights;

import dev.exegpt.runtime.model.t5.T5Options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.exegpt.runtime.model.Architecture;
import dev.exegpt.runtime.model.ModelConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON reader on config.json as Hugging Face writes it, and the config mapping of both families. */
class JsonAndConfigTest {

    @Test
    void parsesNestedValuesAndEscapes() {
        Map<String, Object> j = Json.parseObject("{\"a\": [1, 2.5, -3e2, true, null], \"s\": \"x\\\"y\\u0041\\n\","
                + " \"o\": {}}");
        assertEquals(List.of(1L, 2.5, -300.0, true), ((List<?>) j.get("a")).subList(0, 4));
        assertEquals("x\"yA\n", j.get("s"));
        assertEquals(j, Json.parseObject(Json.write(j)));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": }"));
    }

    @Test
    void readsHuggingFaceT5AndOptConfigs() {
        String t5Small = "{\"architectures\": [\"T5ForConditionalGeneration\"], \"d_ff\": 2048, \"d_kv\": 64,"
                + " \"d_model\": 512, \"decoder_start_token_id\": 0, \"dropout_rate\": 0.1, \"eos_token_id\": 1,"
                + " \"feed_forward_proj\": \"relu\", \"initializer_factor\": 1.0, \"is_encoder_decoder\": true,"
                + " \"layer_norm_epsilon\": 1e-06, \"model_type\": \"t5\", \"n_positions\": 512, \"num_heads\": 8,"
                + " \"num_layers\": 6, \"pad_token_id\": 0, \"relative_attention_num_buckets\": 32,"
                + " \"vocab_size\": 32128}";
        ModelConfig t5 = ModelConfig.fromJson(Json.parseObject(t5Small));
        assertEquals(Architecture.T5, t5.architecture());
        assertEquals(6, t5.numDecoderLayers());
        assertEquals(128, T5Options.of(t5).maxDistance());
        assertTrue(t5.tieWordEmbeddings());
        assertFalse(T5Options.of(t5).gatedGelu());
        String opt125m = "{\"_remove_final_layer_norm\": false, \"activation_function\": \"relu\","
                + " \"architectures\": [\"OPTForCausalLM\"], \"bos_token_id\": 2, \"do_layer_norm_before\": true,"
                + " \"eos_token_id\": 2, \"ffn_dim\": 3072, \"hidden_size\": 768, \"max_position_embeddings\": 2048,"
                + " \"model_type\": \"opt\", \"num_attention_heads\": 12, \"num_hidden_layers\": 12,"
                + " \"pad_token_id\": 1, \"vocab_size\": 50272, \"word_embed_proj_dim\": 768}";
        ModelConfig opt = ModelConfig.fromJson(Json.parseObject(opt125m));
        assertEquals(ModelSize.BASE.config(Architecture.OPT), opt);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelConfig.fromJson(Json.parseObject(opt125m.replace("\"word_embed_proj_dim\": 768",
                        "\"word_embed_proj_dim\": 512"))));
        assertTrue(e.getMessage().contains("word_embed_proj_dim=512"), e.getMessage());
    }
}
