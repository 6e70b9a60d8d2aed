#!/usr/bin/env python3
"""Hugging Face transformers generate() as the peer a user would run instead of ExeGPT (`exegpt bench`'s TRANSFORMERS arm).

  sweep  --model DIR --threads N --batches 1,2,4 --requests IN.jsonl --output-tokens O --slo-ms S --out SWEEP.json
         two generate() calls per batch size (after two warm-up calls), the first B requests' prompts of IN (the round's
         own, so that the padding to the longest is the round's) forced to O new tokens; the faster one's time is the
         latency of a batch whose longest output is the task's bound length, and B / latency. Stops after two batch
         sizes in a row over S (a larger one is slower still; two, so that one noisy measurement does not end it). Writes {"source", "points": [{"batch", "latencyMs",
         "requestsPerSecond"}]}.
  serve  --model DIR --threads N --batch B --requests IN.jsonl --out OUT.jsonl
         IN: one request a line, {"id", "arrivalOffsetMs", "inputIds", "numOutputTokens"}. After loading the model and two
         untimed warm-up generate() calls, the round starts (t0): request i arrives at t0 + arrivalOffsetMs. Static batching as
         FasterTransformer and the bench's STATIC do: when idle, take up to B arrived requests (arrival order), run one
         generate() with min_new_tokens = max_new_tokens = the longest output length among them (so EOS cannot end a
         sequence early; every output has at least its drawn length and is cut to it) and return them together when it
         returns. OUT: one result a line, {"id", "arrivedEpochMs", "encodeStartEpochMs", "firstTokenEpochMs",
         "completedEpochMs", "numInputTokens", "numOutputTokens", "batchSize", "outputIds"}, epoch ms as the bench's
         clock (time.time()); firstTokenEpochMs is when the batch's first token was chosen (the first logits processor
         call: encoder and first decoder step done).

Weights: the checkpoint directory `exegpt model init` writes (the bench's model), loaded with from_pretrained in
float32, the precision the engine computes in. torch.set_num_threads(N), one inter-op thread. Greedy search, KV cache
on (transformers' defaults for generate() apart from the forced lengths).
"""
import argparse
import json
import sys
import time

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, LogitsProcessor, LogitsProcessorList

REPEATS = 2
SOURCE = f"transformers {transformers.__version__}, torch {torch.__version__}"


class FirstStepClock(LogitsProcessor):
    """Records the wall clock (epoch ms) of the first generation step of a generate() call."""

    def __init__(self):
        self.first_ms = None

    def __call__(self, input_ids, scores):
        if self.first_ms is None:
            self.first_ms = time.time() * 1000
        return scores


def load(model_dir, threads):
    torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != 1:
        torch.set_num_interop_threads(1)
    with open(f"{model_dir}/config.json") as f:
        config = json.load(f)
    seq2seq = config.get("is_encoder_decoder", config.get("model_type") == "t5")
    cls = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    model = cls.from_pretrained(model_dir, dtype=torch.float32).eval()
    pad = config.get("pad_token_id")
    if pad is None:
        pad = config.get("eos_token_id", 0)
    return model, seq2seq, int(pad)


def generate(model, seq2seq, pad, prompts, num_new_tokens):
    """One generate() over a ragged batch, padded (right for an encoder, left for a decoder-only model) with a mask.
    Returns (encode start ms, first step ms, end ms, output ids per prompt)."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        if seq2seq:
            ids[i, :len(p)] = torch.tensor(p)
            mask[i, :len(p)] = 1
        else:
            ids[i, width - len(p):] = torch.tensor(p)
            mask[i, width - len(p):] = 1
    clock = FirstStepClock()
    start = time.time() * 1000
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, num_beams=1,
                             min_new_tokens=num_new_tokens, max_new_tokens=num_new_tokens, pad_token_id=pad,
                             logits_processor=LogitsProcessorList([clock]))
    end = time.time() * 1000
    new = out[:, 1:] if seq2seq else out[:, width:]    # T5's output starts with decoder_start_token_id
    return start, clock.first_ms or end, end, new.tolist()


def warm_up(model, seq2seq, pad, prompt, batch):
    """Two untimed generate() calls of the batch size at a real prompt's length: the first calls of a process are slow."""
    for _ in range(2):
        generate(model, seq2seq, pad, [prompt] * max(1, batch), 8)


def sweep(a):
    model, seq2seq, pad = load(a.model, a.threads)
    batches = [int(b) for b in a.batches.split(",")]
    with open(a.requests) as f:
        requests = [json.loads(line) for line in f if line.strip()]
    warm_up(model, seq2seq, pad, requests[0]["inputIds"], batches[0])
    points = []
    over = 0
    for b in batches:
        prompts = [requests[i % len(requests)]["inputIds"] for i in range(b)]
        latency = float("inf")
        for _ in range(REPEATS):                   # the faster of two: the peer at its best on a shared machine
            start, _, end, _ = generate(model, seq2seq, pad, prompts, a.output_tokens)
            latency = min(latency, end - start)
        points.append({"batch": b, "latencyMs": latency, "requestsPerSecond": b * 1000.0 / latency})
        print(f"  transformers B={b}: {latency:.0f} ms for {a.output_tokens} tokens, {b * 1000.0 / latency:.2f} requests/s",
              flush=True)
        over = over + 1 if latency > a.slo_ms else 0
        if over == 2:                                # two in a row over the SLO: a larger batch is slower still
            break
    with open(a.out, "w") as f:
        json.dump({"source": SOURCE, "points": points}, f)


def serve(a):
    model, seq2seq, pad = load(a.model, a.threads)
    with open(a.requests) as f:
        requests = [json.loads(line) for line in f if line.strip()]
    requests.sort(key=lambda r: r["arrivalOffsetMs"])
    warm_up(model, seq2seq, pad, requests[0]["inputIds"], a.batch)
    t0 = time.time() * 1000
    results = []
    i = 0
    while i < len(requests):
        now = time.time() * 1000
        due = t0 + requests[i]["arrivalOffsetMs"]
        if now < due:                                    # idle until the next arrival
            time.sleep((due - now) / 1000)
            now = time.time() * 1000
        batch = []
        while i < len(requests) and len(batch) < a.batch and t0 + requests[i]["arrivalOffsetMs"] <= now:
            batch.append(requests[i])
            i += 1
        num_new = max(r["numOutputTokens"] for r in batch)
        start, first, end, outputs = generate(model, seq2seq, pad, [r["inputIds"] for r in batch], num_new)
        for r, out in zip(batch, outputs):
            results.append({"id": r["id"], "arrivedEpochMs": t0 + r["arrivalOffsetMs"], "encodeStartEpochMs": start,
                            "firstTokenEpochMs": first, "completedEpochMs": end, "numInputTokens": len(r["inputIds"]),
                            "numOutputTokens": r["numOutputTokens"], "batchSize": len(batch),
                            "outputIds": out[:r["numOutputTokens"]]})
    with open(a.out, "w") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["sweep", "serve", "version"])
    p.add_argument("--model")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out")
    p.add_argument("--batches")
    p.add_argument("--output-tokens", type=int)
    p.add_argument("--slo-ms", type=float, default=float("inf"))
    p.add_argument("--batch", type=int)
    p.add_argument("--requests")
    a = p.parse_args()
    if a.mode == "version":
        print(SOURCE)
    elif a.mode == "sweep":
        sweep(a)
    else:
        serve(a)


if __name__ == "__main__":
    sys.exit(main())
