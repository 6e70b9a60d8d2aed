"""Derives the real-data task files in this folder from the raw data in ../shared/data (never copied here).

Run: python3 datasets/derive.py /work/shared/data   (numpy + scipy). Output: datasets/<task>.properties.
Each file holds the percentiles 0..100 of the input and output token counts, the Spearman rank correlation between
them (used by a Gaussian copula when sampling), and arrival statistics where the source is a timed trace.
"""
import csv, gzip, json, sys
from datetime import datetime
import numpy as np
from scipy.stats import spearmanr

root = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"
out = sys.argv[2] if len(sys.argv) > 2 else "datasets"

def q(a):
    return ",".join(str(int(round(v))) for v in np.percentile(a, np.arange(0, 101)))

def write(name, header, props):
    with open(f"{out}/{name}.properties", "w") as f:
        f.write("".join(f"# {h}\n" for h in header))
        for k, v in props:
            f.write(f"{k} = {v}\n")

def stats(a):
    a = np.asarray(a)
    return f"mean {a.mean():.1f}, std {a.std():.1f}, median {np.median(a):.0f}, p99 {np.percentile(a, 99):.0f}, max {a.max()}"

def azure(kind, name, desc):
    rows = list(csv.DictReader(open(f"{root}/azure-2023/AzureLLMInferenceTrace_{kind}.csv")))
    inp = np.array([int(r["ContextTokens"]) for r in rows]); outp = np.array([int(r["GeneratedTokens"]) for r in rows])
    ts = np.array([datetime.strptime(r["TIMESTAMP"][:26], "%Y-%m-%d %H:%M:%S.%f").timestamp() for r in rows])
    gaps = np.diff(np.sort(ts)); rho = spearmanr(inp, outp).correlation
    src = f"Azure LLM inference trace 2023 ({kind}), AzurePublicDataset commit b469a11, CC-BY-4.0; Patel et al., Splitwise, ISCA 2024"
    write(name, [f"Task {name}: {desc}", f"Source: {src}.",
                 f"Derived by datasets/derive.py from {len(rows)} requests: percentiles 0..100 of ContextTokens (input) and GeneratedTokens (output).",
                 f"Input: {stats(inp)}. Output: {stats(outp)}.",
                 "Arrivals: requests/s and coefficient of variation of inter-arrival gaps over the trace's hour."],
          [("name", name), ("description", desc), ("source", src), ("licence", "CC-BY-4.0"),
           ("input.kind", "quantiles"), ("input.quantiles", q(inp)),
           ("output.kind", "quantiles"), ("output.quantiles", q(outp)),
           ("correlation.spearman", f"{rho:.3f}"),
           ("arrivals.requestsPerSecond", f"{len(rows) / (ts.max() - ts.min()):.3f}"),
           ("arrivals.interArrivalCv", f"{gaps.std() / gaps.mean():.2f}")])

azure("conv", "conversation", "conversation service (Azure 2023 trace)")
azure("code", "code", "code-completion service (Azure 2023 trace)")

rows = list(csv.DictReader(open(f"{root}/vidur/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv")))
inp = np.array([int(r["num_prefill_tokens"]) for r in rows]); outp = np.array([int(r["num_decode_tokens"]) for r in rows])
src = "microsoft/vidur data/processed_traces/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv (commit 7d47513), MIT"
write("arxiv", [ "Task arxiv: arXiv paper summarization (Llama-2 tokenizer)", f"Source: {src}.",
                 f"Derived by datasets/derive.py from {len(rows)} requests: percentiles 0..100 of prefill (input) and decode (output) tokens.",
                 f"Input: {stats(inp)}. Output: {stats(outp)}."],
      [("name", "arxiv"), ("description", "arXiv summarization (vidur trace, Llama-2 tokens)"), ("source", src), ("licence", "MIT"),
       ("input.kind", "quantiles"), ("input.quantiles", q(inp)),
       ("output.kind", "quantiles"), ("output.quantiles", q(outp)),
       ("correlation.spearman", f"{spearmanr(inp, outp).correlation:.3f}")])

# HumanEval: no GPT-2 BPE tokenizer in this Python; the token statistics below are those computed from the file
# with GPT-2 BPE and published in ../shared/data/README.md. We check the file has 164 problems and derive the
# input/output rank correlation from character counts (tokenizer-independent in rank, approximately).
probs = [json.loads(l) for l in gzip.open(f"{root}/humaneval/HumanEval.jsonl.gz", "rt")]
rho = spearmanr([len(p["prompt"]) for p in probs], [len(p["canonical_solution"]) for p in probs]).correlation
src = "openai/human-eval HumanEval.jsonl.gz (commit 6d43fb9), MIT; Chen et al. 2021; token stats from ../shared/data/README.md (GPT-2 BPE)"
write("humaneval", ["Task humaneval: HumanEval code generation, prompt -> canonical solution (proxy for generated code)",
                    f"Source: {src}.",
                    "ASSUMPTION: lengths follow a normal truncated to [1, max] with the published mean and std; max = 4 x mean (not published).",
                    f"Correlation: Spearman rank correlation of prompt and solution character counts over the {len(probs)} problems."],
      [("name", "humaneval"), ("description", "HumanEval code generation (GPT-2 BPE tokens)"), ("source", src), ("licence", "MIT"),
       ("input.kind", "truncnormal"), ("input.mean", "170.3"), ("input.std", "88.0"), ("input.max", "681"),
       ("output.kind", "truncnormal"), ("output.mean", "97.2"), ("output.std", "81.6"), ("output.max", "389"),
       ("correlation.spearman", f"{rho:.3f}")])

# Calibration tables for the analytic cost model (A100 measured by vidur; MIT, microsoft/vidur commit 7d47513).
ops = ["input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj", "post_attention_layernorm",
       "mlp_up_proj", "mlp_act", "mlp_down_proj", "add"]
rows = list(csv.DictReader(open(f"{root}/vidur/a100_llama-2-7b_mlp.csv")))
with open(f"{out}/calibration/a100_llama2_7b_layer.csv", "w") as f:
    f.write("# Derived by datasets/derive.py from vidur a100_llama-2-7b_mlp.csv (MIT, microsoft/vidur commit 7d47513).\n")
    f.write("# One Llama-2-7B layer without the attention kernel (h 4096, 32 heads, gated FFN 11008): sum of the medians of\n")
    f.write("# " + ", ".join(ops) + " (ms), per token count and TP degree.\n")
    f.write("tp_degree,num_tokens,layer_ms\n")
    for r in sorted(rows, key=lambda r: (int(r["num_tensor_parallel_workers"]), int(r["num_tokens"]))):
        f.write(f"{r['num_tensor_parallel_workers']},{r['num_tokens']},{sum(float(r['time_stats.' + o + '.median']) for o in ops):.4f}\n")
rows = list(csv.DictReader(open(f"{root}/vidur/a100_dgx_all_reduce.csv")))
with open(f"{out}/calibration/a100_dgx_all_reduce.csv", "w") as f:
    f.write("# Derived by datasets/derive.py from vidur a100_dgx_all_reduce.csv (MIT, microsoft/vidur commit 7d47513):\n")
    f.write("# median all-reduce time (ms) on one DGX A100 node (NVLink), every 8th message size. vidur's size is read as bytes:\n")
    f.write("# read as FP16 elements, the 2-GPU runs would exceed the 300 GB/s NVLink peak.\n")
    f.write("num_workers,num_bytes,median_ms\n")
    rows = [r for r in rows if r["devices_per_node"] == r["num_workers"] or (r["num_workers"] in ("8", "16") and r["devices_per_node"] == "8")]
    rows = [r for r in rows if int(r["num_workers"]) <= 8]
    for i, r in enumerate(sorted(rows, key=lambda r: (int(r["num_workers"]), int(r["size"])))):
        if i % 8 == 0:
            f.write(f"{r['num_workers']},{int(r['size'])},{float(r['time_stats.all_reduce.median']):.4f}\n")
