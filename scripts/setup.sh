#!/usr/bin/env bash
# Sets up .venv with everything the project needs. Idempotent: a second run with unchanged
# pyproject.toml/constraints.txt does nothing. torch is installed first, pinned to the CPU wheel, and
# stays a pip constraint so nothing later pulls a CUDA build.
#   scripts/setup.sh           the Python environment (make run)
#   scripts/setup.sh --browser also Debian's chromium and postgresql for the browser and PostgreSQL tests,
#                              and a real LLM server (llama.cpp with SmolLM2-135M) for the generative-mode tests (make test)
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
  # the browser tests need Chromium (Playwright's own download can't be reached here; Debian's package
  # can); the PostgreSQL tests need Debian's server binaries (initdb, pg_ctl)
  packages=()
  if [ -z "${COALITION_CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then packages+=(chromium); fi
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null; then
    packages+=(postgresql)
  fi
  if [ ${#packages[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    elif command -v sudo >/dev/null; then
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    else
      echo "setup: the tests need ${packages[*]}: apt-get install ${packages[*]} (or set COALITION_CHROMIUM)" >&2
      exit 1
    fi
  fi
  scripts/setup_llm.sh  # the real LLM server of the generative-mode tests (make test only)
fi
