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
.PHONY: help setup test test-fast lint format demo docs bench bench-docs soak clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

setup: ## create $(VENV) with the template's test tools (and gitlab-ci-local with npm) and what generated projects need
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --group test
	@# gitlab-ci-local, which runs generated .gitlab-ci.yml files in the tests (Node.js 20 and npm)
	if command -v npm >/dev/null; then npm ci --prefix tests/gitlab --no-audit --no-fund --loglevel=error; \
	else echo "npm is not installed: the GitLab CI tests need it (.ci/run installs it with apt-get)"; fi

test: ## every template test, including the slow ones that run generated projects (on every core)
	$(BIN)/python -m pytest -m "slow or not slow" --durations=30 -n auto --dist loadgroup --no-loadscope-reorder

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

bench: ## run every benchmark (BENCH_QUICK=1: short runs), write benchmarks/results/, render the docs' figures
	$(BIN)/python benchmarks/bake.py
	$(BIN)/python benchmarks/setup.py
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/drift.py
	$(BIN)/python benchmarks/batch_scoring.py
	$(BIN)/python benchmarks/prediction_store.py
	$(BIN)/python benchmarks/serving.py
	$(BIN)/python benchmarks/serving_profile.py
	$(BIN)/python benchmarks/predict_route.py
	$(BIN)/python benchmarks/own_data_serving.py
	$(BIN)/python benchmarks/feature_store.py
	$(BIN)/python scripts/render_benchmarks.py

bench-docs: ## render the figures in README.md and docs/*.md from benchmarks/results/*.json
	$(BIN)/python scripts/render_benchmarks.py

SOAK_SECONDS ?= 1200
soak: ## mixed valid and hostile traffic against a running service for SOAK_SECONDS; fails on 5xx, lost log rows, memory growth
	@# the results are rendered into the docs whatever the verdict; the target fails with the soak
	SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python benchmarks/soak.py || { $(BIN)/python scripts/render_benchmarks.py; exit 1; }
	$(BIN)/python scripts/render_benchmarks.py

clean: ## remove build output and caches
	rm -rf build site .pytest_cache .ruff_cache
