"""A small world for the view's tests: two DAGs run with ``dag.test()`` against the emulator.

``ui_visible`` fine-tunes, exports and deploys (the job SUCCEEDED, a deployment RUNNING);
``ui_hidden`` starts a fine-tune and leaves it running (the emulator's clock then stands still
until a test moves it). Users and their DAG permissions come from
:class:`tests.plugins.dag_acl_auth.DagAclAuthManager`; tokens are minted by the auth manager.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator import run_emulator
from airflow_dashscope.emulator.runner import RunningEmulator

SFT_LINE = json.dumps(
    {
        "messages": [
            {"role": "user", "content": "What is a deferrable operator?"},
            {"role": "assistant", "content": "One that waits in the triggerer."},
        ]
    }
)
HYPER = {"n_epochs": 2, "batch_size": 8, "max_length": 1024, "logging_steps": 1}
DAG_ACL = {"mallory": ["ui_hidden"], "nobody": []}

VISIBLE = """
import pendulum
from airflow.sdk import DAG
from airflow_dashscope.operators import (
    DashScopeDeployModelOperator,
    DashScopeExportCheckpointOperator,
    DashScopeFineTuneOperator,
    DashScopeUploadFileOperator,
)

fast = {"poll_interval": 0.05, "timeout": 60, "deferrable": False}
with DAG("ui_visible", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    upload = DashScopeUploadFileOperator(task_id="upload", file_path=TRAINING_PATH)
    finetune = DashScopeFineTuneOperator(
        task_id="fine_tune", model="qwen3-8b", training_file_ids=upload.output,
        hyper_parameters=HYPER, **fast,
    )
    export = DashScopeExportCheckpointOperator(
        task_id="export", job_id=finetune.output["job_id"], model_name="ui-visible-v1", **fast
    )
    DashScopeDeployModelOperator(
        task_id="deploy", model_name=export.output["model_name"], **fast
    )
"""

HIDDEN = """
import pendulum
from airflow.sdk import DAG
from airflow_dashscope.operators import DashScopeFineTuneOperator, DashScopeUploadFileOperator

with DAG("ui_hidden", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    upload = DashScopeUploadFileOperator(task_id="upload", file_path=TRAINING_PATH)
    DashScopeFineTuneOperator(
        task_id="fine_tune", model="qwen3-8b", training_file_ids=upload.output,
        hyper_parameters=HYPER, wait_for_completion=False, dashscope_conn_id="ds_hidden",
    )
"""


@dataclass
class World:
    emu: RunningEmulator
    client: DashScopeClient
    #: dag_id -> run_id, and dag_id -> the job its fine-tune task started.
    runs: dict[str, str]
    jobs: dict[str, str]


def _load(source: str, name: str, training_path: Path) -> Any:
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(f"TRAINING_PATH = {str(training_path)!r}\nHYPER = {HYPER!r}\n{source}")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def _turn(emu: RunningEmulator, stop: threading.Event) -> None:
    while not stop.wait(0.001):
        emu.advance(0.02)


@pytest.fixture(scope="module")
def world(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("ui") / "train.jsonl"
    data.write_text("\n".join([SFT_LINE] * 40) + "\n")
    with run_emulator(manual_clock=True) as emu:
        conn = {"conn_type": "dashscope", "host": emu.base_url, "password": emu.api_key}
        env = {
            "AIRFLOW_CONN_DASHSCOPE_DEFAULT": json.dumps(conn),
            "AIRFLOW_CONN_DS_HIDDEN": json.dumps(conn),
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            with DashScopeClient(api_key=emu.api_key, base_url=emu.base_url) as client:
                stop = threading.Event()
                turner = threading.Thread(target=_turn, args=(emu, stop), daemon=True)
                turner.start()
                try:
                    visible = _load(VISIBLE, "ui_visible", data).test()
                finally:
                    stop.set()
                    turner.join(timeout=5)
                hidden = _load(HIDDEN, "ui_hidden", data).test()
                runs = {"ui_visible": visible.run_id, "ui_hidden": hidden.run_id}
                for run in (visible, hidden):
                    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
                    assert set(states.values()) == {"success"}, states
                jobs = {
                    dag_id: job.job_id
                    for job in client.list_fine_tunes()
                    for dag_id, run_id in runs.items()
                    if f"-{_run_digest(dag_id, run_id)}-" in (job.job_name or "")
                }
                assert len(jobs) == 2, jobs
                yield World(emu, client, runs, jobs)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _run_digest(dag_id: str, run_id: str) -> str:
    """The task-instance digest in the fine-tune operator's job names (operators/identity.py)."""
    key = f"{dag_id}|fine_tune|{run_id}|-1"
    return hashlib.sha256(key.encode()).hexdigest()[:10]


@pytest.fixture(scope="module")
def auth(airflow_db: Path) -> Iterator[Any]:
    """The DAG-scoped auth manager, set up as the API server sets up its own."""
    env = {
        "AIRFLOW__CORE__AUTH_MANAGER": "tests.plugins.dag_acl_auth.DagAclAuthManager",
        "AIRFLOW__DASHSCOPE_TESTS__DAG_ACL": json.dumps(DAG_ACL),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,alice:viewer,mallory:viewer,"
        "nobody:viewer",
        "AIRFLOW__API_AUTH__JWT_SECRET": "ui-tests-" + "0123456789abcdef" * 4,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from airflow.api_fastapi.app import init_auth_manager

    try:
        yield init_auth_manager()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def token(auth: Any, username: str, role: str = "viewer") -> dict[str, str]:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    user = SimpleAuthManagerUser(username=username, role=role)
    return {"Authorization": f"Bearer {auth.generate_jwt(user)}"}
