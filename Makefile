# The template's own commands. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= build/demo
export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS = 1
export GX_ANALYTICS_ENABLED = false
export MLFLOW_DISABLE_TELEMETRY = true
export DO_NOT_TRACK = 1

.DEFAULT_GOAL := help
.PHONY: help setup test test-fast lint format demo docs bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

setup: ## create $(VENV) with the template's test tools and what generated projects need
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --group test

test: ## every template test, including the slow ones that run generated projects
	$(BIN)/python -m pytest -m "slow or not slow"

test-fast: ## the fast structure, lint and input checks only (seconds)
	$(BIN)/python -m pytest

lint: ## check the template's own code and the generated code's formatting
	$(BIN)/ruff check hooks tests scripts benchmarks
	$(BIN)/ruff format --check hooks tests scripts benchmarks

format: ## format the template's code, and the generated code where it has no Jinja logic
	$(BIN)/ruff check --fix hooks tests scripts benchmarks
	$(BIN)/ruff format hooks tests scripts benchmarks
	$(BIN)/python scripts/format_template.py

demo: ## generate the default project into $(DEMO_DIR), set it up and run its pipeline
	rm -rf $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	env -u MAKEFLAGS -u MFLAGS -u VENV -u PYTHON $(MAKE) -C $(DEMO_DIR)/customer-churn setup pipeline

docs: ## build the template's docs site (the options page is generated from cookiecutter.json)
	$(BIN)/python scripts/options_doc.py
	$(BIN)/mkdocs build --strict

bench: ## run the benchmarks and print their tables
	$(BIN)/python benchmarks/bake.py
	$(BIN)/python benchmarks/setup.py
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/drift.py
	$(BIN)/python benchmarks/own_data_serving.py

clean: ## remove build output and caches
	rm -rf build site .pytest_cache .ruff_cache
