.PHONY: setup run test bench bench-index clean

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/docsvc serve --host 127.0.0.1 --port 8000

test: setup
	.venv/bin/python -m pytest

bench: setup
	.venv/bin/python bench/render.py

bench-index: setup
	.venv/bin/python bench/index.py
