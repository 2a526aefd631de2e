# Fengqiao: `make run` serves the demo district, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench security lint install clean-data

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test,bench]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/fengqiao dev

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

security: $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[security]'
	$(BIN)/python tools/security.py

lint: $(STAMP)
	$(BIN)/ruff check app worker tests bench

clean-data:
	rm -rf var
