.PHONY: setup run lint test test-fast bench bench-http bench-batch bench-index clean

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/docsvc serve --host 127.0.0.1 --port 8000

# ruff and mypy, configured in pyproject.toml; `make test` runs them before the tests
lint: setup
	.venv/bin/ruff check docsvc tests bench tools
	.venv/bin/mypy

test: lint
	.venv/bin/python -m pytest

# the unit layer only, without anything that starts a server (a few seconds, not ~13 minutes)
test-fast: setup
	.venv/bin/python -m pytest -q tests/unit -m "not e2e"

bench: setup
	.venv/bin/python bench/render.py --readme README.md

# documents/s through `docsvc serve` on loopback, 4 clients, 5-line invoice; RSS per worker
bench-http: setup
	.venv/bin/python bench/http_throughput.py --memory-documents 2000 --readme README.md

bench-batch: setup
	.venv/bin/python bench/batch.py --documents 200 --workers 2

bench-index: setup
	.venv/bin/python bench/index.py
