"""A user's subclass of a DashScope operator shows in the view like the operator itself.

The subclass is defined in the DAG file, as a user would: the API server never imports DAG
files, so the view has to recognise it from the metadata DB alone.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.utils.session import create_session
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.plugins import records
from airflow_dashscope.plugins.app import create_app
from airflow_dashscope.plugins.remote import RemoteReader
from tests.plugins.conftest import SFT_LINE, token

DAG_ID = "subclassed_fine_tune"
SOURCE = """
import pendulum
from airflow.sdk import DAG
from airflow_dashscope.operators import DashScopeFineTuneOperator, DashScopeUploadFileOperator


class TeamFineTuneOperator(DashScopeFineTuneOperator):
    \"\"\"A team's defaults on top of the provider's operator.\"\"\"

    def __init__(self, **kwargs):
        super().__init__(model="qwen3-8b", **kwargs)


with DAG(DAG_ID, schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    upload = DashScopeUploadFileOperator(task_id="upload", file_path=TRAINING_PATH)
    TeamFineTuneOperator(
        task_id="team_tune", training_file_ids=upload.output, wait_for_completion=False,
        hyper_parameters={"n_epochs": 1, "batch_size": 8, "max_length": 1024},
    )
"""


@pytest.fixture(scope="module")
def subclass_run(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("subclass") / "train.jsonl"
    data.write_text("\n".join([SFT_LINE] * 10) + "\n")
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{DAG_ID}.py"
    path.write_text(f"DAG_ID = {DAG_ID!r}\nTRAINING_PATH = {str(data)!r}\n{SOURCE}")
    spec = importlib.util.spec_from_file_location(DAG_ID, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module.dag


def test_a_subclass_of_the_fine_tune_operator_shows(
    subclass_run: Any, dashscope_connection: RunningEmulator, auth: Any
) -> None:
    run = subclass_run.test()
    assert {ti.task_id: ti.state for ti in run.get_task_instances()} == {
        "upload": "success",
        "team_tune": "success",
    }
    (job,) = _jobs(dashscope_connection)  # the emulator was reset before the test
    with create_session() as session:
        found = records.find_task(session, DAG_ID, run.run_id, "team_tune", -1)
        assert found is not None and found.kind == "fine_tune"
        assert found.remote_id == job
        # The upload task is not one the view shows.
        assert records.find_task(session, DAG_ID, run.run_id, "upload", -1) is None
        listed = records.recent_tasks(session, [DAG_ID])
        assert [(r.task_id, r.kind, r.remote_id) for r in listed] == [
            ("team_tune", "fine_tune", job)
        ]
    root = FastAPI()
    root.mount("/dashscope", create_app(RemoteReader(ttl=0)))
    with TestClient(root) as http:
        answer = http.get(
            "/dashscope/api/jobs", params={"dag_id": DAG_ID}, headers=token(auth, "admin", "admin")
        )
    assert answer.status_code == 200, answer.text
    assert [(r["task_id"], r["remote_id"]) for r in answer.json()["rows"]] == [("team_tune", job)]


def _jobs(emulator: RunningEmulator) -> list[str]:
    from airflow_dashscope.client import DashScopeClient

    with DashScopeClient(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        return [job.job_id for job in client.list_fine_tunes()]
