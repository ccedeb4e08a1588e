# Everything a fresh machine needs: `make demo` runs the example pipeline against the embedded
# emulator, `make test` runs lint, type checks and the test suite.
PYTHON ?= python3
AIRFLOW_VERSION ?= 3.3.2
AIRFLOW_FLOOR ?= 3.1.8
VENV ?= .venv
FLOOR_VENV ?= .venv-floor
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: venv test test-floor lint typecheck pytest test-production services demo bench clean

$(VENV)/.stamp-$(AIRFLOW_VERSION): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip uv
	VIRTUAL_ENV=$(VENV) $(UV) pip install -q -e ".[test]" "apache-airflow==$(AIRFLOW_VERSION)"
	touch $@

venv: $(VENV)/.stamp-$(AIRFLOW_VERSION)

# The production-shaped suite's extras (Celery provider, PostgreSQL drivers, Redis client).
$(VENV)/.stamp-production-$(AIRFLOW_VERSION): $(VENV)/.stamp-$(AIRFLOW_VERSION)
	VIRTUAL_ENV=$(VENV) $(UV) pip install -q -e ".[test,production]" "apache-airflow==$(AIRFLOW_VERSION)"
	touch $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

pytest: venv
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

# PostgreSQL and Redis servers for tests/production (Debian packages; root installs them).
services:
	bash .ci/install-services.sh

# PostgreSQL + CeleryExecutor on Redis + two workers + two triggerers + the emulator, under
# load, faults, kills and user actions (docs/production.md). Newest Airflow only: it runs once.
test-production: $(VENV)/.stamp-production-$(AIRFLOW_VERSION) services
	$(VENV)/bin/pytest -q -m production tests/production $(PYTEST_ARGS)

test: lint typecheck pytest test-production

# The same suite on the oldest Airflow release the package supports.
test-floor:
	$(MAKE) pytest VENV=$(FLOOR_VENV) AIRFLOW_VERSION=$(AIRFLOW_FLOOR)

demo: venv
	$(PY) example_dags/run_demo.py

bench: venv
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .mypy_cache .ruff_cache .pytest_cache
