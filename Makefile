# Marquee task runner. `make run` and `make test` set up whatever is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
RUN_STAMP := $(VENV)/.stamp-run
DEV_STAMP := $(VENV)/.stamp-dev

.DEFAULT_GOAL := help
.PHONY: help setup setup-dev frontend frontend-test browser compose-tools run test lint format data \
	verify bench eval export-feedback qa-data clean

help:
	@echo "make run     set up if needed, then start the model service (:8001) and backend (:8000)"
	@echo "make test    set up if needed, then lint and run every test (Python, web client, browser)"
	@echo "make frontend   build the web client (frontend/dist) if its sources changed"
	@echo "make data SOURCE=<source> DATA=<path>   ingest a catalog (sources: demo tmdb-csv"
	@echo "             movies-dataset movielens ratings jsonl tmdb-api)"
	@echo "make verify  compare the vector index with the database (REPAIR=1 to fix)"
	@echo "make bench   run the benchmarks and print their figures"
	@echo "make eval    measure quality (intents, chat, more-like-this) beside baselines"
	@echo "make export-feedback   write rated chat turns as JSONL (OUT=path, default"
	@echo "             var/exports/feedback.jsonl) for fine-tune/"
	@echo "make qa-data  write the fine-tuning pairs data/qa/train.jsonl (synthetic + rated chats)"

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch is pinned to 2.13.0 in requirements/model-service.txt; installed first and alone so
# the resolver never reaches for a CUDA build.
# llama-cpp-python is compiled on the first install (~8 min on 2 cores); pip keeps the wheel.
$(RUN_STAMP): requirements/model-service.txt requirements/backend.txt pyproject.toml | $(PY)
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -r requirements/model-service.txt -r requirements/backend.txt
	$(PIP) install --quiet --no-deps -e .
	touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements/dev.txt requirements/fine-tune.txt
	$(PIP) install --quiet -r requirements/dev.txt
	touch $@

setup: $(RUN_STAMP)

setup-dev: $(DEV_STAMP)

# The web client: `npm ci` when the lock file changes, a Vite build when a source changes.
# Node.js and npm come from the machine (Debian: apt-get install nodejs npm).
FRONTEND_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html \
	frontend/vite.config.ts frontend/tsconfig.json frontend/package.json
NODE_STAMP := frontend/node_modules/.stamp
FRONTEND_BUILD := frontend/dist/index.html

$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js >= 20.19 and npm" \
		"(Debian: apt-get install nodejs npm)"; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(FRONTEND_BUILD): $(NODE_STAMP) $(FRONTEND_SRC)
	cd frontend && npm run --silent build

frontend: $(FRONTEND_BUILD)

frontend-test: $(NODE_STAMP)
	cd frontend && npm run --silent typecheck && npx vitest run

# Tools `make test` needs from the machine, installed from Debian's packages when missing:
# Chromium for the browser tests (driven by playwright-core), and docker-compose 1.29, which
# runs `docker-compose config` without a Docker engine, for the compose file checks.
CHROMIUM ?= /usr/bin/chromium
DOCKER_COMPOSE_BIN ?= /usr/bin/docker-compose
browser:
	@scripts/ensure-debian-package.sh $(CHROMIUM) chromium "the browser tests"

compose-tools:
	@scripts/ensure-debian-package.sh $(DOCKER_COMPOSE_BIN) docker-compose "the compose file checks"

run: setup frontend
	$(PY) scripts/stack.py

lint: setup-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: lint frontend frontend-test browser compose-tools
	CHROMIUM=$(CHROMIUM) $(PY) -m pytest

data: setup
	@test -n "$(SOURCE)" || { echo "usage: make data SOURCE=<source> DATA=<path>"; exit 2; }
	$(PY) prepare-databases/prepare.py ingest --source $(SOURCE) $(if $(DATA),--data "$(DATA)")

verify: setup
	$(PY) prepare-databases/prepare.py verify $(if $(REPAIR),--repair)

bench: setup-dev frontend browser
	$(PY) bench/run_all.py

eval: setup-dev
	$(PY) evaluation/run_all.py

export-feedback: setup
	$(PY) backend/manage.py migrate --verbosity 0
	$(PY) backend/manage.py export_feedback $(if $(OUT),--output "$(OUT)")

qa-data: setup
	$(PY) fine-tune/build_data.py

clean:
	rm -rf var/index var/marquee.sqlite3* var/explore frontend/dist
