#!/usr/bin/env bash
# Sets up .venv with everything the project needs. Idempotent: a second run with unchanged
# pyproject.toml/constraints.txt does nothing. torch is installed first, pinned to the CPU wheel, and
# stays a pip constraint so nothing later pulls a CUDA build.
#   scripts/setup.sh           the Python environment (make run)
#   scripts/setup.sh --browser also Debian's chromium for the browser tests and a real LLM server (llama.cpp
#                              with SmolLM2-135M) for the generative-mode tests (make test)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q torch==2.13.0
  .venv/bin/pip install -q -c constraints.txt -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
if [ "${1:-}" = "--browser" ]; then
  scripts/setup_llm.sh  # the real LLM server of the generative-mode tests (make test only)
fi
if [ "${1:-}" = "--browser" ] && [ -z "${COALITION_CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
  # Playwright's own browser download can't be reached here; Debian's package can.
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: the browser tests need Chromium: apt-get install chromium (or set COALITION_CHROMIUM)" >&2
    exit 1
  fi
fi
