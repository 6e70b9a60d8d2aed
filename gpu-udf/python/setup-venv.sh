#!/usr/bin/env bash
# Makes gpu-udf/python/.venv with torch, transformers, tokenizers, safetensors and sentencepiece from the wheels on
# this machine kind (no PyPI needed: pip is configured with local indexes; see ../../../shared/DESIGN.md §6).
# HfInteropTest uses it (or the python named by EXEGPT_HF_PYTHON); about 1-3 minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install -q torch transformers tokenizers safetensors sentencepiece protobuf
"$here/.venv/bin/python" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
