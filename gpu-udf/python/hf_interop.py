#!/usr/bin/env python3
"""Hugging Face transformers as the independent reference for the engine's families (HfInteropTest runs this).

  save OUT          transformers builds a small T5ForConditionalGeneration, OPTForCausalLM and LlamaForCausalLM (GQA,
                    untied head) from its own config classes with seeded random weights, writes each with
                    save_pretrained (safetensors, BF16, sharded with max_shard_size=100KB) into OUT/hf-<family>, and
                    a reference.json beside it: for a ragged batch of prompts, each prompt's greedy steps (the token
                    chosen and the logits it was chosen from, computed in float32 from the BF16 weights).
  check DIR TEXT..  loads a directory that `exegpt model init` (CheckpointWriter) wrote with from_pretrained, model and
                    tokenizer, tokenizes each TEXT into a prompt and writes DIR/transformers.json with the same steps.

Greedy steps (NUM_STEPS per prompt): a decoder-only model runs the prompt (step 0: the logits of its last position,
the prefill) and then each chosen token (the decode steps); T5 runs the encoder on the prompt and the decoder from
decoder_start_token_id. Every prompt runs alone, unpadded, recomputing the whole sequence at each step (no KV cache),
so that the engine's cached, batched, ragged steps are compared with the plain definition of the model.
"""
import json
import os
import sys

import torch
import transformers
from transformers import (AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM,
                          MistralConfig, MistralForCausalLM, OPTConfig, OPTForCausalLM, Qwen2Config, Qwen2ForCausalLM,
                          T5Config, T5ForConditionalGeneration)

NUM_STEPS = 4
SOURCE = f"transformers {transformers.__version__}, torch {torch.__version__}"


def greedy_steps(model, input_ids, seq2seq, decoder_start):
    """NUM_STEPS greedy steps of one prompt, each recomputed from the whole sequence."""
    steps = []
    with torch.no_grad():
        ids = torch.tensor([input_ids])
        if seq2seq:
            enc = model.get_encoder()(input_ids=ids)
            dec = [decoder_start]
            for _ in range(NUM_STEPS):
                logits = model(encoder_outputs=enc, decoder_input_ids=torch.tensor([dec])).logits[0, -1].float()
                token = int(torch.argmax(logits))
                steps.append({"token": token, "logits": logits.tolist()})
                dec.append(token)
        else:
            seq = list(input_ids)
            for _ in range(NUM_STEPS):
                logits = model(input_ids=torch.tensor([seq])).logits[0, -1].float()
                token = int(torch.argmax(logits))
                steps.append({"token": token, "logits": logits.tolist()})
                seq.append(token)
    return steps


def families():
    """Configs written with transformers' own classes; shapes small enough for a test, options as published."""
    return {
        "hf-t5": (T5ForConditionalGeneration, T5Config(
            vocab_size=512, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4,
            relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="relu",
            tie_word_embeddings=True, eos_token_id=1, pad_token_id=0, decoder_start_token_id=0),
            [[17, 99, 250, 3, 411, 7, 1], [5, 300, 1], [64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 1]]),
        "hf-opt": (OPTForCausalLM, OPTConfig(
            vocab_size=512, hidden_size=64, num_attention_heads=4, ffn_dim=128, num_hidden_layers=2,
            max_position_embeddings=128, word_embed_proj_dim=64, do_layer_norm_before=True,
            activation_function="relu", tie_word_embeddings=True, bos_token_id=2, eos_token_id=2, pad_token_id=1),
            [[2, 17, 99, 250, 3, 411, 7], [2, 300], [2, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74]]),
        # Llama with grouped-query attention (8 query heads over 2 key/value heads), an untied LM head, and a
        # rope_theta other than the default, so that a theta read wrongly shows.
        "hf-llama": (LlamaForCausalLM, LlamaConfig(
            vocab_size=512, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=8,
            num_key_value_heads=2, head_dim=8, max_position_embeddings=128, rms_norm_eps=1e-5, rope_theta=500.0,
            hidden_act="silu", attention_bias=False, mlp_bias=False, tie_word_embeddings=False, bos_token_id=1,
            eos_token_id=2),
            [[1, 17, 99, 250, 3, 411, 7], [1, 300], [1, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78]]),
        # Two models built like Llama that the engine runs with the Llama family (vLLM maps them the same way):
        # Mistral, whose sliding window (here beyond the positions) makes no difference within it, and Qwen2, whose
        # q, k and v projections carry biases; tied head, rope_theta 1e6 as Qwen2-7B.
        "hf-mistral": (MistralForCausalLM, MistralConfig(
            vocab_size=512, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=8,
            num_key_value_heads=2, head_dim=8, max_position_embeddings=128, sliding_window=4096, rms_norm_eps=1e-5,
            rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2),
            [[1, 17, 99, 250, 3, 411, 7], [1, 300], [1, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78]]),
        "hf-qwen2": (Qwen2ForCausalLM, Qwen2Config(
            vocab_size=512, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=8,
            num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=1000000.0,
            use_sliding_window=False, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2),
            [[17, 99, 250, 3, 411, 7], [300], [64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78]]),
    }


def save(out):
    for name, (cls, config, prompts) in families().items():
        torch.manual_seed(0)
        model = cls(config).eval()
        for pname, p in model.named_parameters():   # larger than the default init, so logits differ visibly
            p.data.normal_(0.0, 0.3 if p.dim() > 1 else 0.1)
            if "norm" in pname:
                p.data += 1.0                  # norm weights near 1; biases near 0
        model = model.to(torch.bfloat16)
        d = os.path.join(out, name)
        model.save_pretrained(d, safe_serialization=True, max_shard_size="100KB")
        # The reference is what from_pretrained gives for the saved checkpoint, in f32: BF16 weights widened exactly
        # (the engine does the same at load), while buffers that are not saved, such as Llama's rotary inv_freq,
        # are recomputed in f32 (the model in memory holds them rounded to BF16 by .to(torch.bfloat16)).
        model = cls.from_pretrained(d, dtype=torch.float32).eval()
        seq2seq = name == "hf-t5"
        ref = {"source": SOURCE, "prompts": prompts,
               "steps": [greedy_steps(model, p, seq2seq, config.decoder_start_token_id if seq2seq else 0)
                         for p in prompts]}
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f)
        print(name, "shards:", len([f for f in os.listdir(d) if f.endswith(".safetensors")]))


def check(d, texts):
    with open(os.path.join(d, "config.json")) as f:
        config = json.load(f)
    seq2seq = config["model_type"] == "t5"
    model = (AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM).from_pretrained(d).float().eval()
    tok = AutoTokenizer.from_pretrained(d)
    prompts = [tok(t)["input_ids"] for t in texts]
    out = {"source": SOURCE, "model_class": type(model).__name__, "tokenizer_class": type(tok).__name__,
           "texts": texts, "prompts": prompts,
           "decoded": [tok.decode(p, skip_special_tokens=True) for p in prompts],
           "steps": [greedy_steps(model, p, seq2seq, config.get("decoder_start_token_id", 0)) for p in prompts]}
    with open(os.path.join(d, "transformers.json"), "w") as f:
        json.dump(out, f)
    print(d, type(model).__name__, type(tok).__name__, [len(p) for p in prompts])


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "save":
        save(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3:])
    else:
        sys.exit("usage: hf_interop.py save OUT | check DIR TEXT...")
