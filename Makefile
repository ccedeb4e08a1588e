# Everything a fresh machine needs: `make demo` runs the example pipeline against the embedded
# emulator, `make test` runs lint, type checks and the test suite (the long end-to-end suites
# are `make test-e2e`; `make test-all` is what CI runs: both, then the floor release).
PYTHON ?= python3
AIRFLOW_VERSION ?= 3.3.2
AIRFLOW_FLOOR ?= 3.1.8
VENV ?= .venv
FLOOR_VENV ?= .venv-floor
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Extra requirements of one Airflow line (see test-floor).
EXTRA_PINS ?=

.PHONY: venv test test-e2e test-slow test-all test-floor lint typecheck pytest test-production services browser demo bench docs docs-serve clean

$(VENV)/.stamp-$(AIRFLOW_VERSION): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip uv
	VIRTUAL_ENV=$(VENV) $(UV) pip install -q -e ".[test,ui]" "apache-airflow==$(AIRFLOW_VERSION)" $(EXTRA_PINS)
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
	$(VENV)/bin/pytest -q -m "not slow" $(PYTEST_ARGS)

# PostgreSQL and Redis servers for tests/production (Debian packages; root installs them).
services:
	bash .ci/install-services.sh

# Debian's chromium for the browser tests (tests/browser); without it they skip.
browser:
	bash .ci/install-browser.sh

# PostgreSQL + CeleryExecutor on Redis + two workers + two triggerers + the emulator, under
# load, faults, kills and user actions (docs/production.md). Newest Airflow only: it runs once.
test-production: $(VENV)/.stamp-production-$(AIRFLOW_VERSION) services
	$(VENV)/bin/pytest -q -m production tests/production $(PYTEST_ARGS)

# The fast suite: lint, types, every test but the long end-to-end ones (about 5 minutes).
test: lint typecheck pytest

# The long end-to-end suites, once on the newest Airflow: airflow standalone with a real
# triggerer, the browser, the built wheel in a fresh environment, then the production shape.
test-e2e: test-slow test-production

# The standalone, browser, wheel and docs-build suites (not the production shape).
test-slow: venv browser
	$(VENV)/bin/pytest -q -m "slow and not production" $(PYTEST_ARGS)

test-all: test test-e2e test-floor

# The same suite on the oldest Airflow release the package supports.
# Airflow 3.1 sets an attribute on cryptography's MultiFernet, a native class from
# cryptography 51 on: connections with a password cannot be read there, so the floor pins it.
test-floor:
	$(MAKE) pytest VENV=$(FLOOR_VENV) AIRFLOW_VERSION=$(AIRFLOW_FLOOR) EXTRA_PINS='"cryptography<51"'

# A quiet run: a summary (the answer, the job, its billed tokens, how to open the UI), with
# Airflow's own log in a file; DEMO_VERBOSE=1 make demo shows that log too.
demo: venv
	$(PY) example_dags/run_demo.py

# The documentation site (docs/, mkdocs.yml) in strict mode: broken links and references fail.
# site/index.html opens from disk; search needs it served (`make docs-serve`, or http.server).
docs: venv
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site
	@echo "Built site/. Open site/index.html, or serve it for search:"
	@echo "  $(PY) -m http.server -d site 8000   -> http://127.0.0.1:8000/"

# The site served with live reload (and search) at http://127.0.0.1:8000/.
docs-serve: venv
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

# Issues 13 and 19's figures side by side (about 20 minutes on 2 busy cores: the triggerer
# comparison over HTTP and HTTPS is most of it); the peers come from the bench extra.
bench: venv
	VIRTUAL_ENV=$(VENV) $(UV) pip install -q -e ".[test,bench]"
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .mypy_cache .ruff_cache .pytest_cache site dist
