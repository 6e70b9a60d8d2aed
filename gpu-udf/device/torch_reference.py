#!/usr/bin/env python3
"""PyTorch on the shapes of CudaBench, on the same GPU and in the same run (gpu-udf/device/run.sh).

Matmul: torch.matmul of (n, n) @ (n, n)^T in f32 (TF32 off, as the Java f32 kernel does no TF32) and in f16,
CUDA-event timed, median of 10 after 3 warm-ups. Decode: one greedy decode step of the base models' shapes
(OPT-125m: 12 pre-LN decoder layers, d 768, 12 heads, ffn 3072, vocab 50272; T5-base decoder: 12 layers with
self- and cross-attention, RMS norms, ReLU feed-forward, tied LM head) with random f32 weights and a KV cache
pre-filled with `context` positions, at batch 1..64; each step reads its next tokens back to the host, as the
Java engine does. Median wall time of `steps` steps after 2 warm-ups.

Usage: torch_reference.py [--json FILE] [--sizes 1024,2048,4096] [--batches 1,2,4,8,16,32,64] [--context 128]
       [--steps 16] [--models opt,t5,llama]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

D, H, HD, FFN, LAYERS, VOCAB = 768, 12, 64, 3072, 12, 50272
KV = 4  # Llama's key/value heads at this width (LlamaFamily.sized: 12 heads -> 4)


def ints(s):
    return [int(x) for x in s.split(",")]


def time_matmul(n, dtype):
    g = torch.Generator(device="cuda").manual_seed(42)
    a = (torch.rand(n, n, device="cuda", generator=g) - 0.5).to(dtype)
    w = (torch.rand(n, n, device="cuda", generator=g) - 0.5).to(dtype)
    for _ in range(3):
        torch.matmul(a, w.t())
    ms = []
    for _ in range(10):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        torch.matmul(a, w.t())
        e.record()
        e.synchronize()
        ms.append(s.elapsed_time(e))
    m = statistics.median(ms)
    return m, 2.0 * n ** 3 / (m * 1e9)


def rand(*shape):
    return (torch.rand(*shape, device="cuda") - 0.5) * 0.1


def rms(x, w, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


class Decoder:
    """One model's decode step with a preallocated KV cache of (layers, batch, heads, max_len, head_dim)."""

    def __init__(self, arch, batch, context, steps):
        self.arch, self.b, self.pos = arch, batch, context
        max_len = context + steps + 8
        self.emb = rand(VOCAB, D)
        self.layers = []
        for _ in range(LAYERS):
            l = {n: rand(D, D) for n in ("q", "k", "v", "o")}
            l.update(fc1=rand(FFN, D), fc2=rand(D, FFN), ln1=torch.ones(D, device="cuda"), ln2=torch.ones(D, device="cuda"))
            if arch == "llama":                       # grouped-query attention and SwiGLU, as LlamaFamily.sized
                l.update(k=rand(KV * HD, D), v=rand(KV * HD, D), gate=rand(FFN, D))
            elif arch == "opt":
                l.update({n + "_b": rand(D) for n in ("q", "k", "v", "o")}, fc1_b=rand(FFN), fc2_b=rand(D),
                         ln1_b=torch.zeros(D, device="cuda"), ln2_b=torch.zeros(D, device="cuda"))
            else:
                l.update(cq=rand(D, D), co=rand(D, D), ln3=torch.ones(D, device="cuda"),
                         ck=rand(batch, H, context, HD), cv=rand(batch, H, context, HD))
            self.layers.append(l)
        kv_heads = KV if arch == "llama" else H
        self.k = rand(LAYERS, batch, kv_heads, max_len, HD)
        self.v = rand(LAYERS, batch, kv_heads, max_len, HD)
        inv_freq = 1.0 / (10000.0 ** (torch.arange(0, HD, 2, device="cuda").float() / HD))
        self.inv_freq = inv_freq
        self.positions = rand(max_len + 2, D)
        self.rel_bias = rand(H, 1, max_len)
        self.final = torch.ones(D, device="cuda")
        self.tokens = torch.randint(0, 50257, (batch,), device="cuda")

    def heads(self, x, n=H):
        return x.view(self.b, 1, n, HD).transpose(1, 2)

    def rope(self, x, n):
        """transformers' rotate_half RoPE of x (batch, n * HD) at the current position."""
        angle = self.pos * self.inv_freq
        cos, sin = torch.cat((angle, angle)).cos(), torch.cat((angle, angle)).sin()
        x = x.view(self.b, n, HD)
        x1, x2 = x[..., : HD // 2], x[..., HD // 2:]
        return (x * cos + torch.cat((-x2, x1), dim=-1) * sin).view(self.b, n * HD)

    @torch.no_grad()
    def step(self):
        p = self.pos
        x = self.emb[self.tokens]
        if self.arch == "opt":
            x = x + self.positions[p + 2]
        for i, l in enumerate(self.layers):
            if self.arch == "llama":
                h = rms(x, l["ln1"], 1e-5)
                q = self.rope(F.linear(h, l["q"]), H)
                k = self.rope(F.linear(h, l["k"]), KV)
                v = F.linear(h, l["v"])
                self.k[i, :, :, p] = k.view(self.b, KV, HD)
                self.v[i, :, :, p] = v.view(self.b, KV, HD)
                g = H // KV                           # each key/value head serves g query heads
                keys = self.k[i, :, :, : p + 1].repeat_interleave(g, dim=1)
                values = self.v[i, :, :, : p + 1].repeat_interleave(g, dim=1)
                a = F.scaled_dot_product_attention(self.heads(q), keys, values)
                x = x + F.linear(a.transpose(1, 2).reshape(self.b, D), l["o"])
                h = rms(x, l["ln2"], 1e-5)
                x = x + F.linear(F.silu(F.linear(h, l["gate"])) * F.linear(h, l["fc1"]), l["fc2"])
                continue
            if self.arch == "opt":
                h = F.layer_norm(x, (D,), l["ln1"], l["ln1_b"])
                q, k, v = (F.linear(h, l[n], l[n + "_b"]) for n in ("q", "k", "v"))
            else:
                h = rms(x, l["ln1"])
                q, k, v = (F.linear(h, l[n]) for n in ("q", "k", "v"))
            self.k[i, :, :, p] = k.view(self.b, H, HD)
            self.v[i, :, :, p] = v.view(self.b, H, HD)
            keys, values = self.k[i, :, :, : p + 1], self.v[i, :, :, : p + 1]
            if self.arch == "opt":
                a = F.scaled_dot_product_attention(self.heads(q), keys, values)
                x = x + F.linear(a.transpose(1, 2).reshape(self.b, D), l["o"], l["o_b"])
                h = F.layer_norm(x, (D,), l["ln2"], l["ln2_b"])
                x = x + F.linear(F.relu(F.linear(h, l["fc1"], l["fc1_b"])), l["fc2"], l["fc2_b"])
            else:
                bias = self.rel_bias[:, :, : p + 1]
                a = F.scaled_dot_product_attention(self.heads(q), keys, values, attn_mask=bias, scale=1.0)
                x = x + F.linear(a.transpose(1, 2).reshape(self.b, D), l["o"])
                h = rms(x, l["ln2"])
                a = F.scaled_dot_product_attention(self.heads(F.linear(h, l["cq"])), l["ck"], l["cv"], scale=1.0)
                x = x + F.linear(a.transpose(1, 2).reshape(self.b, D), l["co"])
                h = rms(x, l["ln3"])
                x = x + F.linear(F.relu(F.linear(h, l["fc1"])), l["fc2"])
        if self.arch == "opt":
            h = F.layer_norm(x, (D,), self.final)
        elif self.arch == "llama":
            h = rms(x, self.final, 1e-5)
        else:
            h = rms(x, self.final) * D ** -0.5
        self.tokens = torch.argmax(F.linear(h, self.emb), dim=-1)
        self.pos += 1
        return self.tokens.cpu()


def time_decode(arch, batch, context, steps):
    dec = Decoder(arch, batch, context, steps)
    for _ in range(2):
        dec.step()
    ms = []
    for _ in range(steps):
        t0 = time.perf_counter()
        dec.step()
        ms.append((time.perf_counter() - t0) * 1e3)
    del dec
    torch.cuda.empty_cache()
    return statistics.median(ms), min(ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--sizes", default="1024,2048,4096")
    ap.add_argument("--batches", default="1,2,4,8,16,32,64")
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--models", default="opt,t5,llama")
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "matmul": [], "decode": [],
           "context": a.context, "steps": a.steps}
    print(f"torch {torch.__version__} on {out['device']}")
    for n in ints(a.sizes):
        for name, dtype in (("f32", torch.float32), ("f16", torch.float16)):
            ms, tf = time_matmul(n, dtype)
            print(f"  matmul {name} torch.matmul {n:5d}^3: {ms:8.3f} ms  {tf:7.2f} TFLOP/s")
            out["matmul"].append({"dtype": name, "kernel": "torch.matmul", "size": n, "ms": ms, "tflops": tf})
    for m in a.models.split(","):
        name = m + "-base"
        for b in ints(a.batches):
            ms, best = time_decode(m, b, a.context, a.steps)
            print(f"  {name:10s} batch {b:3d}: {ms:7.2f} ms/step (best {best:6.2f}) {b / (ms / 1e3):9.1f} tokens/s")
            out["decode"].append({"model": name, "batch": b, "ms": ms, "best_ms": best, "tokens_per_s": b / (ms / 1e3)})
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
        print("wrote", a.json)


if __name__ == "__main__":
    main()
