"""Shared test set-up: a throw-away AIRFLOW_HOME with its own SQLite metadata DB.

The environment is set at import time, before anything imports Airflow, so no test ever
touches a developer's real Airflow home.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="airflow-dashscope-tests-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_HOME / "dags"))
# Tests must never reach a real DashScope with a developer's key.
os.environ.pop("DASHSCOPE_API_KEY", None)


@pytest.fixture(scope="session")
def example_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the example DAGs write their data in this session: one URL, because the data
    asset's URI is registered in the metadata DB by the first run that declares it, and a
    later declaration with another URI records no event on it."""
    return tmp_path_factory.mktemp("example-data")


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """A migrated metadata DB, for tests that run DAGs (``dag.test()``)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    yield _HOME
