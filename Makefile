# The two commands: `make run` (the app with the demo shop on :3000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_CHECK_LATEST_VERSION := false
export REFLEX_TELEMETRY_ENABLED := false

.PHONY: install run serve-prod test bench simulate lint clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m work_dispatch demo
	$(PY) -m work_dispatch addresses
	$(VENV)/bin/reflex run --env prod

# Production: PostgreSQL + Redis + several workers behind one port (see README, "Operating in production").
serve-prod: install
	@test -n "$$WD_DATABASE_URL" || { echo "Set WD_DATABASE_URL=postgresql+psycopg://user@host:5432/db"; exit 2; }
	@test -n "$$REFLEX_REDIS_URL" || { echo "Set REFLEX_REDIS_URL=redis://host:6379/0"; exit 2; }
	@test -n "$$WD_ALLOWED_ORIGINS" || { \
	  echo "Set WD_ALLOWED_ORIGINS=https://dispatch.example.com,... (the addresses users open, comma-separated)."; \
	  echo "Production accepts pages only from origins you name: behind a proxy or a public name this machine"; \
	  echo "cannot tell which addresses are its own (see README, \"Tablets and allowed origins\")."; exit 2; }
	$(PY) -m work_dispatch check
	GRANIAN_WORKERS=$${GRANIAN_WORKERS:-3} $(VENV)/bin/reflex run --env prod

test: install
	$(PY) -m pytest

bench: install
	$(PY) -m tests.benchmarks

# The shop simulator: every dispatch policy over seeded shop weeks (see README, "Dispatch quality").
simulate: install
	$(PY) -m work_dispatch simulate $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf .web .states artifacts data
