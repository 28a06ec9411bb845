# Two commands for a new machine:
#   make run    set up, ingest the corpus, serve the chat page and API on http://127.0.0.1:8000
#   make test   set up, lint, type-check, run the tests (browser ones too), then the eval quality gate
.PHONY: setup setup-browser run test lint bench bench-scale
export HF_HUB_OFFLINE := 1

setup:
	scripts/setup.sh

setup-browser:
	scripts/setup.sh --browser

run: setup
	.venv/bin/coalition ingest || [ $$? -eq 2 ]
	.venv/bin/coalition serve

lint: setup
	.venv/bin/ruff check core coalition ingest assistant bots evals tests
	.venv/bin/mypy

test: setup-browser lint
	.venv/bin/pytest
	.venv/bin/coalition ingest || [ $$? -eq 2 ]
	.venv/bin/coalition eval --gate --report artifacts/eval.md

bench: setup
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	.venv/bin/python -m evals.bench_ingest
	.venv/bin/coalition ingest || [ $$? -eq 2 ]
	.venv/bin/python -m evals.bench_answer
	.venv/bin/python -m evals.bench_hotpath
	.venv/bin/python -m evals.bench_web
	.venv/bin/python -m evals.bench_headers
	.venv/bin/python -m evals.bench_soak

bench-scale: setup
	.venv/bin/coalition ingest || [ $$? -eq 2 ]
	.venv/bin/python -m evals.bench_scale
