# Two commands for a new machine:
#   make run    set up, ingest the corpus, list what was indexed
#   make test   set up, lint, type-check, run the tests, then the eval quality gate
.PHONY: setup run test lint bench
export HF_HUB_OFFLINE := 1

setup:
	scripts/setup.sh

run: setup
	.venv/bin/coalition ingest || [ $$? -eq 2 ]
	.venv/bin/coalition docs

lint: setup
	.venv/bin/ruff check coalition ingest assistant bots evals tests
	.venv/bin/mypy

test: lint
	.venv/bin/pytest
	.venv/bin/coalition ingest || [ $$? -eq 2 ]
	.venv/bin/coalition eval --gate --report artifacts/eval.md

bench: setup
	.venv/bin/python -m evals.bench_ingest
	.venv/bin/coalition ingest || [ $$? -eq 2 ]
	.venv/bin/python -m evals.bench_answer
