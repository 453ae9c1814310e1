# Set-up is part of every target: a fresh machine needs only `make run` or
# `make test`. The virtualenv is rebuilt when pyproject.toml changes.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
LINTED := service tests $(wildcard bench)

.PHONY: run test lint bench bench-smoke clean

run: $(VENV)/.installed
	$(BIN)/python -m service serve

test: $(VENV)/.installed redis-server
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

bench: $(VENV)/.installed redis-server wrk
	$(BIN)/python -m bench

# Every scenario at a tiny size, to keep the benchmark working; figures mean little.
bench-smoke: $(VENV)/.installed redis-server wrk
	$(BIN)/python -m bench --smoke
	$(BIN)/python -m bench.hot_paths --rounds 1 --calls 200 --entries 1000

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Tests start their own redis-server processes; install the binary if absent.
.PHONY: redis-server wrk
redis-server:
	@command -v redis-server >/dev/null || .ci/apt-install redis-server

wrk:
	@command -v wrk >/dev/null || .ci/apt-install wrk

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
