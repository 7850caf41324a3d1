# One entry per job; each does its own set-up so it works on a fresh machine.
# Commands run in the active virtual environment, or in ./.venv, which setup creates.
VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),$(CURDIR)/.venv)
BIN := $(VENV)/bin
export VIRTUAL_ENV := $(VENV)
export PATH := $(BIN):$(PATH)
PACKAGES := injectors streams monitors chaosbus chaosbus_demo

.PHONY: setup check test test-unit demo bench

setup:
	@bash scripts/setup.sh

check: setup
	$(BIN)/ruff check $(PACKAGES) tests bench
	$(BIN)/ruff format --check $(PACKAGES) tests bench
	$(BIN)/mypy
	$(BIN)/deptry .

# Two workers, each taking whole modules (--dist loadfile): a module's tests share its fixtures
# and its Redis database, and most of the suite waits on brokers and services, not on the CPU.
TEST_WORKERS ?= 2

test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-unit: setup
	$(BIN)/python -m pytest tests/unit

demo: setup
	$(BIN)/chaosbus demo

bench: setup
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python bench/passthrough.py
