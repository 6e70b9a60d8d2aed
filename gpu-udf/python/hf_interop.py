#!/usr/bin/env python3
"""Checkpoints between transformers and the ExeGPT engine, both ways (HfInteropTest runs this).

  save OUT        transformers writes tiny T5 and OPT checkpoints with save_pretrained (safetensors, BF16, sharded
                  with max_shard_size=100KB) into OUT/hf-t5 and OUT/hf-opt, and for each a reference.json: a prompt's
                  ids and, for 3 greedy steps, the token chosen and the logits (computed in float32 from the BF16
                  weights) that the engine must reproduce.
  check DIR TEXT  loads a directory that `exegpt model init` (CheckpointWriter) wrote with from_pretrained, model and
                  tokenizer, tokenizes TEXT and writes DIR/transformers.json with the ids and the same 3 greedy steps.

Greedy steps: T5 runs the encoder on the prompt and the decoder from decoder_start_token_id; OPT runs the prompt and
then each chosen token. "logits" of a step are those of its last position.
"""
import json
import os
import sys

import torch
import transformers
from transformers import (AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, OPTConfig, OPTForCausalLM,
                          T5Config, T5ForConditionalGeneration)

NUM_STEPS = 3


def greedy_steps(model, input_ids, seq2seq, decoder_start):
    steps = []
    with torch.no_grad():
        ids = torch.tensor([input_ids])
        if seq2seq:
            enc = model.get_encoder()(input_ids=ids)
            dec = [decoder_start]
            for _ in range(NUM_STEPS):
                out = model(encoder_outputs=enc, decoder_input_ids=torch.tensor([dec]))
                logits = out.logits[0, -1].float()
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


def save(out):
    torch.manual_seed(0)
    families = {
        "hf-t5": (T5ForConditionalGeneration, T5Config(
            vocab_size=512, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4,
            relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="relu",
            tie_word_embeddings=True, eos_token_id=1, pad_token_id=0, decoder_start_token_id=0)),
        "hf-opt": (OPTForCausalLM, OPTConfig(
            vocab_size=512, hidden_size=64, num_attention_heads=4, ffn_dim=128, num_hidden_layers=2,
            max_position_embeddings=128, word_embed_proj_dim=64, do_layer_norm_before=True,
            activation_function="relu", tie_word_embeddings=True, bos_token_id=2, eos_token_id=2, pad_token_id=1)),
    }
    for name, (cls, config) in families.items():
        model = cls(config).eval()
        for p in model.parameters():           # larger than the default init, so that logits differ visibly
            p.data.normal_(0.0, 0.5 if p.dim() > 1 else 0.1)
        model = model.to(torch.bfloat16)
        d = os.path.join(out, name)
        model.save_pretrained(d, safe_serialization=True, max_shard_size="100KB")
        model = model.float()                  # BF16 values widened exactly; the engine does the same at load
        input_ids = [2, 17, 99, 250, 3, 411, 7] if name == "hf-opt" else [17, 99, 250, 3, 411, 7, 1]
        ref = {"source": f"transformers {transformers.__version__}, torch {torch.__version__}",
               "input_ids": input_ids,
               "steps": greedy_steps(model, input_ids, name == "hf-t5", 0)}
        json.dump(ref, open(os.path.join(d, "reference.json"), "w"))
        print(name, "shards:", sorted(f for f in os.listdir(d) if f.endswith(".safetensors")).__len__())


def check(d, text):
    config = json.load(open(os.path.join(d, "config.json")))
    seq2seq = config["model_type"] == "t5"
    model = (AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM).from_pretrained(d).float().eval()
    tok = AutoTokenizer.from_pretrained(d)
    input_ids = tok(text)["input_ids"]
    out = {"source": f"transformers {transformers.__version__}, torch {torch.__version__}",
           "tokenizer_class": type(tok).__name__, "text": text, "input_ids": input_ids,
           "decoded": tok.decode(input_ids, skip_special_tokens=True),
           "steps": greedy_steps(model, input_ids, seq2seq, config.get("decoder_start_token_id", 0))}
    json.dump(out, open(os.path.join(d, "transformers.json"), "w"))
    print(d, type(tok).__name__, input_ids)


if __name__ == "__main__":
    if sys.argv[1] == "save":
        save(sys.argv[2])
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: hf_interop.py save OUT | check DIR TEXT")
