#!/usr/bin/env bash
# On the GPU host (CUDA driver, PyTorch; no JDK, no Maven, no network), from the repository root, with .device/
# made by gpu-udf/device/prepare.sh: runs the dev.exegpt.runtime.cuda tests with DeviceTests (JUnit's launcher; every
# family (T5, OPT, Llama) on the CUDA backend against the CPU engine's logits, state moved between the backends,
# XProfiler on the GPU), then the GPU benchmark (Java: matmul TFLOP/s and decode tokens/s at batch 1..64 for the
# base models of every family) and PyTorch on the same shapes, and prints them side by side. Logs, test reports and JSON go to $OUT when set (else .device/out).
# Extra arguments go to both benchmarks (e.g. --batches 1,8,64 --steps 8).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dev=$root/.device
out=${OUT:-$dev/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[[ -f $dev/jre.tgz ]] || { echo "run.sh: $dev/jre.tgz is missing; run gpu-udf/device/prepare.sh where the JDK is" >&2; exit 1; }
jre=${JRE_DIR:-/tmp/exegpt-jre}
if [[ ! -x $jre/jre/bin/java ]]; then mkdir -p "$jre" && tar xzf "$dev/jre.tgz" -C "$jre"; fi
java=$jre/jre/bin/java
cp_main="$dev/classes:$dev/lib/*"
cp_test="$dev/launcher:$dev/test-classes:$cp_main"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$out/nvidia-smi.txt"

echo "== tests: dev.exegpt.runtime.cuda" | tee "$out/tests.log"
# gpu-udf's tests write fixtures under target/ relative to the working directory, and read src/ (PtxEntriesTest)
(cd gpu-udf && "$java" --add-modules jdk.incubator.vector -Xmx8g \
  -cp "$cp_test" DeviceTests dev.exegpt.runtime.cuda) 2>&1 | tee -a "$out/tests.log"
tests_rc=${PIPESTATUS[0]}

echo "== benchmark: Java CUDA backend" | tee "$out/bench.log"
"$java" --add-modules jdk.incubator.vector -Xmx16g -cp "$cp_main" dev.exegpt.runtime.cuda.CudaBench \
  --json "$out/cuda_bench.json" "$@" 2>&1 | tee -a "$out/bench.log"
bench_rc=${PIPESTATUS[0]}

echo "== benchmark: PyTorch on the same shapes" | tee -a "$out/bench.log"
python3 gpu-udf/device/torch_reference.py --json "$out/torch_reference.json" "$@" 2>&1 | tee -a "$out/bench.log"
torch_rc=${PIPESTATUS[0]}

if [[ -f $out/cuda_bench.json && -f $out/torch_reference.json ]]; then
  python3 - "$out/cuda_bench.json" "$out/torch_reference.json" <<'PY' 2>&1 | tee "$out/comparison.txt"
import json, sys
j, t = (json.load(open(p)) for p in sys.argv[1:3])
print("matmul TFLOP/s: ours / PyTorch (same shape, same dtype)")
tm = {(r["dtype"], r["size"]): r for r in t["matmul"]}
for r in j["matmul"]:
    ref = tm.get((r["dtype"], r["size"]))
    if ref:
        print(f"  {r['dtype']} {r['kernel']:16s} {r['size']:5d}^3: {r['tflops']:7.2f} vs {ref['tflops']:7.2f}"
              f"  = {r['tflops'] / ref['tflops']:5.2f}x")
print("decode tokens/s: ours / PyTorch (ms per step: ours / PyTorch)")
td = {(r["model"], r["batch"]): r for r in t["decode"]}
for r in j["decode"]:
    ref = td.get((r["model"], r["batch"]))
    if ref:
        print(f"  {r['model']:9s} batch {r['batch']:3d}: {r['tokens_per_s']:9.1f} vs {ref['tokens_per_s']:9.1f} tokens/s"
              f"  = {r['tokens_per_s'] / ref['tokens_per_s']:5.2f}x  (step {r['ms']:.2f} vs {ref['ms']:.2f} ms)")
PY
fi
echo "run.sh: tests rc=$tests_rc, Java bench rc=$bench_rc, PyTorch rc=$torch_rc; logs in $out"
exit $(( tests_rc != 0 || bench_rc != 0 || torch_rc != 0 ))
