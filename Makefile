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

# These tests assert invariants over the whole database (roll-up totals equal direct counts,
# nothing left to analyse), so they run in a session with a database of their own.
WHOLE_DB_TESTS := tests/integration/test_rollups_cases.py tests/integration/test_rollups_jobs.py \
	tests/integration/test_rollups_dashboard.py tests/integration/test_text_api.py
# The browser tests keep a live server and a real worker (with its cron jobs) running for their
# whole session, so they get a session and a database of their own too: the worker's hourly
# jobs must not race the other tests.
BROWSER_TESTS := tests/browser

test: $(STAMP)
	$(BIN)/python -m pytest $(addprefix --ignore=,$(WHOLE_DB_TESTS) $(BROWSER_TESTS))
	$(BIN)/python -m pytest $(BROWSER_TESTS)
	$(BIN)/python -m pytest $(WHOLE_DB_TESTS)

# wrk drives the load bench (it falls back to an httpx generator without it) and Chromium runs
# the page-weight and Lighthouse checks: installed from Debian's packages when missing.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 || \
		(export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		apt-get install -y -qq wrk chromium fonts-noto-cjk >/dev/null) || \
		echo "could not install wrk/chromium: the bench says what it ran without"
	$(BIN)/python -m bench

security: $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[security]'
	$(BIN)/python tools/security.py

lint: $(STAMP)
	$(BIN)/ruff check app worker tests bench

clean-data:
	rm -rf var
