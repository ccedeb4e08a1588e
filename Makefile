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

.PHONY: venv test test-floor lint typecheck pytest demo bench docs clean

$(VENV)/.stamp-$(AIRFLOW_VERSION): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip uv
	VIRTUAL_ENV=$(VENV) $(UV) pip install -q -e ".[test,ui]" "apache-airflow==$(AIRFLOW_VERSION)"
	touch $@

venv: $(VENV)/.stamp-$(AIRFLOW_VERSION)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

pytest: venv
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

test: lint typecheck pytest

# The same suite on the oldest Airflow release the package supports.
test-floor:
	$(MAKE) pytest VENV=$(FLOOR_VENV) AIRFLOW_VERSION=$(AIRFLOW_FLOOR)

demo: venv
	$(PY) example_dags/run_demo.py

# The documentation site (docs/, mkdocs.yml) in strict mode: broken links and references fail.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# Issue 13's figures side by side (about 15 minutes); the peers come from the bench extra.
bench: venv
	VIRTUAL_ENV=$(VENV) $(UV) pip install -q -e ".[test,bench]"
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .mypy_cache .ruff_cache .pytest_cache site dist
