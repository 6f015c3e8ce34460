# Agency Portal: `make run` serves the product with demo data; `make test` runs every test.
# Both install what they need into .venv (Python), node_modules (axe-core) and a cache
# outside git (the Meilisearch binary).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: run test lint test-sqlite test-postgres install install-test install-lint tools bench-portal bench-search bench-search-degraded bench-scoreboard clean

run: install
	@scripts/run.sh

test: lint install-test tools
	@scripts/test.sh

test-sqlite: install-test tools
	@scripts/test.sh sqlite

test-postgres: install-test tools
	@scripts/test.sh postgresql

# The gates: ruff (lint and format) and mypy, configured in pyproject.toml; pre-commit runs the same.
# `make test` runs them first, so CI enforces them.
lint: install-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install: $(VENV)/.runtime-installed
install-test: $(VENV)/.test-installed
install-lint: $(VENV)/.lint-installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.runtime-installed
	$(PIP) -e '.[test]'
	@touch $@

$(VENV)/.lint-installed: $(VENV)/.runtime-installed
	$(PIP) -e '.[lint]'
	@touch $@

# Headless Chromium (Debian package), axe-core (npm, pinned by package-lock.json), Meilisearch.
tools: node_modules/axe-core/axe.min.js
	@scripts/ensure-chromium.sh
	@scripts/get-meilisearch.sh >/dev/null

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	@touch $@

bench-portal: install-test
	@command -v wrk >/dev/null || (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python bench/portal_pages.py
	$(BIN)/python bench/render_cost.py

# Candidate search at 100,000 candidates (minutes; not part of `make test`). CANDIDATES=20000 for a quick run.
bench-search: install-test tools
	@command -v wrk >/dev/null || (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python bench/search.py --candidates $${CANDIDATES:-100000}

# Degraded (database) search against healthy (Meilisearch) search at 10,000 candidates, same run.
bench-search-degraded: install-test tools
	$(BIN)/python bench/search_degraded.py --candidates $${CANDIDATES:-10000}

# The scoreboard against the jobs list, same run, at 10,000 and 100,000 applications (minutes).
# APPLICATIONS="10000" for a quick run; BENCH_DATABASE_URL=postgresql+psycopg://… for PostgreSQL.
bench-scoreboard: install-test
	$(BIN)/python bench/scoreboard.py --applications $${APPLICATIONS:-10000 100000} --rounds $${ROUNDS:-20}

clean:
	rm -rf $(VENV) node_modules instance/*.db instance/meili instance/make-run.json test-artifacts
