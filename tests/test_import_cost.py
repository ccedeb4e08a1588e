"""Importing the provider at DAG-parse time is cheap and does no network I/O.

What a DAG file imports (every operator and sensor class, the hook, assets, links) must not
load the client, its pydantic models, the triggers, the validators or the emulator, nor what
only ``execute`` uses (planners, tables, identity rules, quota and budget checks, the wait
machinery, the evaluation): those load when a task runs. Checked by module names in a fresh
process, not by a timing (the timing is ``bench/bench_import.py``).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import socket, sys
def refuse(*args, **kwargs):
    raise AssertionError("network I/O while importing the provider")
socket.socket.connect = refuse
socket.create_connection = refuse
import airflow.sdk, pydantic
from airflow_dashscope.operators import *
from airflow_dashscope.sensors import *
import airflow_dashscope.operators as operators, airflow_dashscope.sensors as sensors
for name in operators.__all__ + sensors.__all__:
    getattr(operators if name in operators.__all__ else sensors, name)
import airflow_dashscope.hooks, airflow_dashscope.lineage.assets, airflow_dashscope.links.console
import airflow_dashscope.triggers
from airflow_dashscope.get_provider_info import get_provider_info
get_provider_info()
print("modules:" + ",".join(sorted(sys.modules)))
def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)
ours = {c.__module__ for c in subclasses(pydantic.BaseModel)}
print("models:" + ",".join(sorted(m for m in ours if m.startswith("airflow_dashscope"))))
"""

#: Modules (and their submodules) a DAG file must not load.
NOT_AT_PARSE_TIME = (
    "airflow_dashscope.client.models",
    "airflow_dashscope.client.endpoints",
    "airflow_dashscope.client.async_client",
    "airflow_dashscope.client.sync_client",
    "airflow_dashscope.client.transport",
    "airflow_dashscope.hooks.connection",
    "airflow_dashscope.triggers.base",
    "airflow_dashscope.triggers.fine_tune",
    "airflow_dashscope.triggers.checkpoint",
    "airflow_dashscope.triggers.deployment",
    "airflow_dashscope.training_data",
    "airflow_dashscope.emulator",
    # what only a running task needs: planners, tables, rules, checks against the account
    "airflow_dashscope.operators.identity",
    "airflow_dashscope.operators.content",
    "airflow_dashscope.operators.retention_plan",
    "airflow_dashscope.operators.sweep_table",
    "airflow_dashscope.operators.promotion_smoke",
    "airflow_dashscope.operators.fine_tune_outcome",
    "airflow_dashscope.evaluation",
    "airflow_dashscope.checks.quotas",
    "airflow_dashscope.checks.budget",
    "airflow_dashscope.checks.prices",
    "airflow_dashscope.checks.models",
    "airflow_dashscope.client.config",
    "airflow_dashscope.client.retry",
    "airflow_dashscope.waiting",
    "uvicorn",
    "fastapi",
)


@pytest.fixture(scope="module")
def probe() -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = {}
    for line in done.stdout.splitlines():
        key, _, values = line.partition(":")
        found[key] = [value for value in values.split(",") if value]
    return found


@pytest.mark.parametrize("module", NOT_AT_PARSE_TIME)
def test_a_dag_file_import_does_not_load(probe: dict[str, list[str]], module: str) -> None:
    loaded = [name for name in probe["modules"] if name == module or name.startswith(module + ".")]
    assert loaded == []


def test_a_dag_file_import_defines_no_pydantic_model(probe: dict[str, list[str]]) -> None:
    assert probe["models"] == []


def test_the_probe_did_load_the_operators(probe: dict[str, list[str]]) -> None:
    """The negative checks above mean something only if the classes were really imported."""
    assert "airflow_dashscope.operators.fine_tune" in probe["modules"]
    assert "airflow_dashscope.sensors.fine_tune" in probe["modules"]


def test_lazy_names_resolve_and_unknown_names_fail() -> None:
    import airflow_dashscope.client as client
    import airflow_dashscope.triggers as triggers
    from airflow_dashscope.triggers.fine_tune import DashScopeFineTuneJobTrigger

    assert triggers.DashScopeFineTuneJobTrigger is DashScopeFineTuneJobTrigger
    assert "AsyncDashScopeClient" in dir(client)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = triggers.Nope
