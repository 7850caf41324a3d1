# One entry per job; each does its own set-up so it works on a fresh machine.
.PHONY: setup check test test-unit demo bench

setup:
	@bash scripts/setup.sh

check: setup
	ruff check injectors streams monitors chaosbus tests bench
	mypy

test: setup
	python3 -m pytest

test-unit: setup
	python3 -m pytest tests/unit

demo: setup
	chaosbus demo

bench: setup
	python3 bench/passthrough.py
