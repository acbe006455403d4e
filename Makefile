# Two entry points for a fresh machine (Python 3.11+ only): `make demo` and `make test`.
# Each creates .venv and installs the project from pyproject.toml when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@scripts/native-argon2.sh $(BIN)/python
	@scripts/native-http-parser.sh $(BIN)/python
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lgsp demo

test: $(STAMP)
	@scripts/ensure-test-tools.sh
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
