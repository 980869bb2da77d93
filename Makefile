# Marquee task runner. `make run` and `make test` set up whatever is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
RUN_STAMP := $(VENV)/.stamp-run
DEV_STAMP := $(VENV)/.stamp-dev

.DEFAULT_GOAL := help
.PHONY: help setup setup-dev run test lint format data verify bench eval export-feedback clean

help:
	@echo "make run     set up if needed, then start the model service (:8001) and backend (:8000)"
	@echo "make test    set up if needed, then lint and run every test"
	@echo "make data SOURCE=<source> DATA=<path>   ingest a catalog (sources: demo tmdb-csv"
	@echo "             movies-dataset movielens ratings jsonl tmdb-api)"
	@echo "make verify  compare the vector index with the database (REPAIR=1 to fix)"
	@echo "make bench   run the benchmarks and print their figures"
	@echo "make eval    measure quality (intents, chat, more-like-this) beside baselines"
	@echo "make export-feedback   write rated chat turns as JSONL (OUT=path, default"
	@echo "             var/exports/feedback.jsonl) for fine-tune/"

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

$(DEV_STAMP): $(RUN_STAMP) requirements/dev.txt
	$(PIP) install --quiet -r requirements/dev.txt
	touch $@

setup: $(RUN_STAMP)

setup-dev: $(DEV_STAMP)

run: setup
	$(PY) scripts/stack.py

lint: setup-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: lint
	$(PY) -m pytest

data: setup
	@test -n "$(SOURCE)" || { echo "usage: make data SOURCE=<source> DATA=<path>"; exit 2; }
	$(PY) prepare-databases/prepare.py ingest --source $(SOURCE) $(if $(DATA),--data "$(DATA)")

verify: setup
	$(PY) prepare-databases/prepare.py verify $(if $(REPAIR),--repair)

bench: setup-dev
	$(PY) bench/run_all.py

eval: setup-dev
	$(PY) evaluation/run_all.py

export-feedback: setup
	$(PY) backend/manage.py migrate --verbosity 0
	$(PY) backend/manage.py export_feedback $(if $(OUT),--output "$(OUT)")

clean:
	rm -rf var/index var/marquee.sqlite3* var/explore
