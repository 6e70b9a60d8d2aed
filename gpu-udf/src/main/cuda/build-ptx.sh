#!/usr/bin/env bash
# Compiles every gpu-udf/src/main/cuda/*.cu to PTX into the module's classes (a class-path resource the CUDA backend
# loads with cuModuleLoadData). Run by the Maven build (generate-resources). Where no nvcc is found the build goes on
# without PTX and the CUDA backend reports itself unavailable. nvcc: $NVCC, else the PATH, else /usr/local/cuda/bin.
# PTX for compute_80 (A100 and newer; the H100 driver JIT-compiles it), so the tensor-core path (WMMA) is in.
set -euo pipefail
src_dir=$1
out_dir=$2
nvcc=${NVCC:-$(command -v nvcc || true)}
if [[ -z $nvcc && -x /usr/local/cuda/bin/nvcc ]]; then nvcc=/usr/local/cuda/bin/nvcc; fi
if [[ -z $nvcc ]]; then
  echo "[gpu-udf] nvcc not found: no PTX built; the CUDA backend will report itself unavailable"
  exit 0
fi
mkdir -p "$out_dir"
for cu in "$src_dir"/*.cu; do
  ptx="$out_dir/$(basename "${cu%.cu}").ptx"
  if [[ -f $ptx && $ptx -nt $cu ]]; then continue; fi
  echo "[gpu-udf] $nvcc -ptx -arch=compute_80 $(basename "$cu")"
  "$nvcc" -ptx -arch=compute_80 -O3 -o "$ptx" "$cu"
done
