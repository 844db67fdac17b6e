# One command runs the example of everything (make demo); one passes the checks (make test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck contracts pytest system-tools bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# MLflow in a venv of its own: the import tests and the demo run it to write real MLflow stores,
# and the MLflow-script tests run each script on it too.
MLFLOW_VENV := .mlflow-venv
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed

$(MLFLOW_STAMP): tests/requirements-mlflow.txt
	test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install --quiet -r tests/requirements-mlflow.txt
	touch $(MLFLOW_STAMP)

# KServe's client in a venv of its own (it pins its own FastAPI, pydantic, NumPy): the
# client tests run a script on it against a live mloop server.
KSERVE_VENV := .kserve-venv
KSERVE_STAMP := $(KSERVE_VENV)/.installed

$(KSERVE_STAMP): tests/requirements-kserve.txt
	test -x $(KSERVE_VENV)/bin/python || $(PYTHON) -m venv $(KSERVE_VENV)
	$(KSERVE_VENV)/bin/pip install --quiet -r tests/requirements-kserve.txt
	touch $(KSERVE_STAMP)

# System tools the tests use: promtool (Debian's prometheus package) checks /metrics.
# Installed with apt-get when missing and run as root; otherwise that test is skipped.
system-tools:
	@command -v promtool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } \
	    || echo "apt-get could not install promtool: its test is skipped"; \
	  else \
	    echo "promtool is missing and apt-get cannot install it here: its test is skipped"; \
	  fi; }

# The demo's import section has MLflow itself write the store it imports (its own venv).
demo: $(STAMP) $(MLFLOW_STAMP)
	MLOOP_DEMO_MLFLOW_PYTHON=$(abspath $(MLFLOW_VENV)/bin/python) $(BIN)/python examples/quickstart.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

# src/ as pyproject says, then the README's and docs' examples as a user's code would read them.
typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --strict tests/typing

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP) $(MLFLOW_STAMP) $(KSERVE_STAMP) system-tools
	MLOOP_TEST_MLFLOW_PYTHON=$(abspath $(MLFLOW_VENV)/bin/python) \
	MLOOP_TEST_KSERVE_PYTHON=$(abspath $(KSERVE_VENV)/bin/python) \
	$(BIN)/pytest -n 2 -q

test: lint typecheck contracts pytest

# Peers (MLflow, DVC, GX, BentoML; Metaflow and ZenML) live in venvs of their own, away from mloop's dependencies.
BENCH_VENV := .bench-venv
bench:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet -r bench/requirements.txt -e '.[serve,sklearn]'
	$(BENCH_VENV)/bin/python bench/tracking.py --json bench/results/tracking.json
	$(BENCH_VENV)/bin/python bench/data.py --json bench/results/data.json
	$(BENCH_VENV)/bin/python bench/models.py --json bench/results/models.json
	$(BENCH_VENV)/bin/python bench/startup.py --json bench/results/startup.json
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BENCH_VENV)/bin/python bench/serving.py --json bench/results/serving.json
	test -x .bench-venv-pipelines/bin/python || $(PYTHON) -m venv .bench-venv-pipelines
	.bench-venv-pipelines/bin/pip install --quiet -r bench/requirements-pipelines.txt -e .
	.bench-venv-pipelines/bin/python bench/pipelines.py --json bench/results/pipelines.json

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) $(KSERVE_VENV) .mloop .pytest_cache .mypy_cache .ruff_cache
