#!/usr/bin/env bash
# setup-venv.sh: makes gpu-udf/target/hf-venv, a Python virtual environment with torch, transformers, tokenizers,
# safetensors and sentencepiece, for HfInteropTest (transformers as the independent reference of every model family)
# and python/expected_ids.py. Idempotent: a venv that already imports torch and transformers is kept.
#
# On this machine kind pip finds the wheels offline through local indexes (`pip config list`: extra-index-url and
# find-links). Left as configured, pip first asks the unreachable public index and takes minutes; so the configured
# local indexes are passed as --index-url (the first) and --extra-index-url (the rest): about 40 s (../../../shared/
# DESIGN.md §6). Where no local index is configured, pip's own configuration is used as it is.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../target/hf-venv"
packages=(torch transformers tokenizers safetensors sentencepiece protobuf)

if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "import torch, transformers, safetensors" 2>/dev/null; then
  echo "setup-venv: $(cd "$venv" && pwd) is ready ($("$venv/bin/python" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"))"
  exit 0
fi

index_args=()
read -r -a local_indexes <<<"$(python3 -m pip config get global.extra-index-url 2>/dev/null | tr '\n' ' ' || true)"
local_only=()
for url in "${local_indexes[@]}"; do [[ "$url" == file://* ]] && local_only+=("$url"); done
if ((${#local_only[@]} > 0)); then
  index_args+=(--index-url "${local_only[0]}")
  for url in "${local_only[@]:1}"; do index_args+=(--extra-index-url "$url"); done
fi

start=$(date +%s)
echo "setup-venv: making $venv (${index_args[*]:-the configured indexes}) ..."
rm -rf "$venv"
python3 -m venv "$venv"
log="$(mktemp -t setup-venv.XXXXXX.log)"
if ! "$venv/bin/pip" install -q "${index_args[@]}" "${packages[@]}" >"$log" 2>&1; then
  echo "setup-venv: pip install ${packages[*]} failed (log: $log):" >&2
  grep -v "^WARNING: Location" "$log" | tail -20 >&2
  exit 1
fi
echo "setup-venv: ready in $(( $(date +%s) - start )) s: $("$venv/bin/python" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)")"
