"""The DashScope page as the account's page: every remote resource, its owner, flags and cost.

A DAG runs with ``dag.test()`` against the emulator (its clock stands still, so its jobs stay
RUNNING until a test moves it), then runs its run again with changed inputs: ``dag.test()``
replaces a run of the same date and run id, so the task instance is the same one (the job
names' digest), as after a clear with changed data: a second job, the first left training.
A job made "in the console" (by the client, with no name of ours) and a file no job used sit
beside them. Users come from :class:`tests.plugins.dag_acl_auth.DagAclAuthManager`.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pendulum
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator import run_emulator
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.operators.identity import job_owner
from airflow_dashscope.plugins.app import create_app
from airflow_dashscope.plugins.remote import RemoteReader
from tests.plugins.conftest import SFT_LINE, token

DAG_ID = "acct_retrain"
LOGICAL_DATE = pendulum.datetime(2025, 3, 3, tz="UTC")
SOURCE = """
import pendulum
from airflow.sdk import DAG
from airflow_dashscope.operators import DashScopeFineTuneOperator, DashScopeUploadFileOperator

with DAG(DAG_ID, schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    upload = DashScopeUploadFileOperator(task_id="upload", file_path=TRAINING_PATH)
    DashScopeFineTuneOperator(
        task_id="fine_tune", model="qwen3-8b", training_file_ids=upload.output,
        hyper_parameters={"n_epochs": EPOCHS, "batch_size": 8, "max_length": 1024},
        wait_for_completion=False,
        # Keep the older inputs' job when a clear changes them: the page must flag it.
        cancel_superseded=False,
    )
"""


@dataclass
class Account:
    emu: RunningEmulator
    client: DashScopeClient
    run_id: str
    #: The DAG's first job (left training by the "clear") and its second.
    first: str
    second: str
    console_job: str
    stray_file: str


def _run(epochs: int, data: Path) -> Any:
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{DAG_ID}.py"
    path.write_text(
        f"DAG_ID = {DAG_ID!r}\nTRAINING_PATH = {str(data)!r}\nEPOCHS = {epochs}\n{SOURCE}"
    )
    spec = importlib.util.spec_from_file_location(DAG_ID, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = module.dag.test(run_after=LOGICAL_DATE, logical_date=LOGICAL_DATE)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert set(states.values()) == {"success"}, states
    return run


@pytest.fixture(scope="module")
def account(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    data = tmp_path_factory.mktemp("account") / "train.jsonl"
    data.write_text("\n".join([SFT_LINE] * 20) + "\n")
    stray = data.with_name("stray.jsonl")
    stray.write_text(SFT_LINE + "\n")
    with run_emulator(manual_clock=True) as emu:
        conn = {"conn_type": "dashscope", "host": emu.base_url, "password": emu.api_key}
        saved = os.environ.get("AIRFLOW_CONN_DASHSCOPE_DEFAULT")
        os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = json.dumps(conn)
        try:
            with DashScopeClient(api_key=emu.api_key, base_url=emu.base_url) as client:
                first_run = _run(1, data)
                (first,) = [j.job_id for j in client.list_fine_tunes()]
                second_run = _run(2, data)  # the same run again, its inputs changed
                assert second_run.run_id == first_run.run_id
                (second,) = [j.job_id for j in client.list_fine_tunes() if j.job_id != first]
                file_id = client.get_fine_tune(first).training_file_ids[0]
                hyper = {"n_epochs": 1, "batch_size": 8, "max_length": 1024}
                console = client.create_fine_tune(
                    "qwen3-8b", [file_id], hyper_parameters=hyper, job_name="made-by-hand"
                ).job_id
                stray_file = client.upload_file(str(stray))
                yield Account(emu, client, first_run.run_id, first, second, console, stray_file)
        finally:
            if saved is None:
                os.environ.pop("AIRFLOW_CONN_DASHSCOPE_DEFAULT", None)
            else:
                os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = saved


@pytest.fixture(scope="module")
def http(account: Account, auth: Any) -> Iterator[TestClient]:
    root = FastAPI()
    root.mount("/dashscope", create_app(RemoteReader(ttl=0)))
    with TestClient(root) as client:
        yield client


def page(http: TestClient, auth: Any, user: str, role: str = "viewer", **params: str) -> Any:
    answer = http.get("/dashscope/api/jobs", params=params, headers=token(auth, user, role))
    assert answer.status_code == 200, answer.text
    return answer.json()


def mine(data: dict[str, Any], account: Account) -> dict[str, dict[str, Any]]:
    """This module's rows, by remote id (the metadata DB holds other modules' DAGs too)."""
    ours = {account.first, account.second, account.console_job}
    return {r["remote_id"]: r for r in data["rows"] if r["remote_id"] in ours}


def test_both_jobs_of_a_cleared_run_belong_to_its_task(
    account: Account, auth: Any, http: TestClient
) -> None:
    rows = mine(page(http, auth, "admin", "admin"), account)
    for job_id in (account.first, account.second):
        row = rows[job_id]
        assert (row["dag_id"], row["run_id"], row["task_id"]) == (
            DAG_ID,
            account.run_id,
            "fine_tune",
        )
        assert row["owner"] == "job name" and row["task_link"].startswith(f"dags/{DAG_ID}/runs/")
    first = account.client.get_fine_tune(account.first)
    second = account.client.get_fine_tune(account.second)
    assert job_owner(first.job_name) is not None and job_owner(second.job_name) is not None
    assert {first.status_name, second.status_name} <= {"PENDING", "QUEUING", "RUNNING"}
    # The clear left the first job training for nobody; the second is its task's own.
    (flag,) = rows[account.first]["flags"]
    assert flag.startswith("In progress, and no task waits on it") and account.second in flag
    assert rows[account.first]["yuan"] is None  # nothing billed yet: no cost, not an unknown one
    # The task instance ended (wait_for_completion=False): nobody waits on the second either.
    (flag,) = rows[account.second]["flags"]
    assert "fine_tune is success" in flag


def test_a_console_job_is_not_from_this_airflow(
    account: Account, auth: Any, http: TestClient
) -> None:
    data = page(http, auth, "admin", "admin")
    row = mine(data, account)[account.console_job]
    assert row["owner"] == "not from this Airflow" and row["dag_id"] is None
    assert row["flags"] == []  # no task here is expected to wait on it
    assert row["task_link"] is None
    files = {f["remote_id"]: f for f in data["files"]}
    assert files[account.stray_file]["owner"] == "used by no job"
    (used,) = [f for f in files.values() if account.first in f["jobs"]]
    assert used["dag_ids"] == [DAG_ID] and account.console_job in used["jobs"]
    html = http.get("/dashscope/jobs", headers=token(auth, "admin", "admin")).text
    assert 'data-testid="not-from-here">not from this Airflow<' in html


def test_gauges_count_the_whole_account(account: Account, auth: Any, http: TestClient) -> None:
    data = page(http, auth, "admin", "admin")
    (acct,) = [a for a in data["accounts"] if "dashscope_default" in a["conn_ids"]]
    gauges = {g["name"]: g for g in acct["gauges"]}
    jobs = account.client.list_fine_tunes()
    files = account.client.list_files()
    assert gauges["Fine-tune jobs running or succeeded"]["used"] == len(jobs) == 3
    assert gauges["Fine-tune jobs running or succeeded"]["limit"] == 20
    assert gauges["Files"]["used"] == len(files) and gauges["Files"]["limit"] == 100
    assert gauges["File storage"]["used"] == sum(f.size or 0 for f in files)
    assert data["billing_now"]["deployments_running"] == 0


def test_users_see_their_dags_rows_and_the_gauges(
    account: Account, auth: Any, http: TestClient
) -> None:
    # mallory may read ui_hidden only: none of this DAG's rows, nor what no DAG here made.
    data = page(http, auth, "mallory")
    assert mine(data, account) == {}
    assert account.stray_file not in {f["remote_id"] for f in data["files"]}
    assert data["sees_all"] is False
    assert [g["used"] for a in data["accounts"] for g in a["gauges"]][:1] == [3]
    assert all(c["dag_id"] != DAG_ID for c in data["cost_by_dag"])
    # alice may read every DAG: she sees them all, the console's job too.
    everything = page(http, auth, "alice")
    assert set(mine(everything, account)) == {account.first, account.second, account.console_job}
    assert everything["sees_all"] is True
    assert account.stray_file in {f["remote_id"] for f in everything["files"]}
    filtered = page(http, auth, "alice", dag_id=DAG_ID)
    assert set(mine(filtered, account)) == {account.first, account.second}


def test_cost_per_job_and_per_dag_and_what_bills_now(
    account: Account, auth: Any, http: TestClient
) -> None:
    emu = account.emu
    emu.advance(emu.settings.pending_seconds + emu.settings.job_seconds / 2)
    training = page(http, auth, "admin", "admin")["billing_now"]
    running = {j.job_id for j in account.client.list_fine_tunes() if j.status_name == "RUNNING"}
    assert running and training["jobs_training"] == len(running)
    dag_running = running & {account.first, account.second}
    assert training["jobs_by_dag"].get(DAG_ID, 0) == len(dag_running)
    for _ in range(20):  # the service may queue jobs: let every one finish
        emu.advance(emu.settings.job_seconds)
        if all(j.is_terminal for j in account.client.list_fine_tunes()):
            break
    done = [account.client.get_fine_tune(j) for j in (account.first, account.second)]
    assert all(job.status_name == "SUCCEEDED" and job.usage_tokens for job in done)
    # A deployment made by hand of the console's model: running, and no DAG here owns it.
    console = account.client.get_fine_tune(account.console_job)
    assert console.finetuned_output
    deployed = account.client.create_deployment(console.finetuned_output, capacity=1)
    emu.advance(emu.settings.deploy_seconds * 2)

    data = page(http, auth, "admin", "admin")
    rows = mine(data, account)
    # qwen3-8b: 0.006 yuan per 1,000 tokens, to the fen.
    for job in done:
        assert rows[job.job_id]["billed_tokens"] == job.usage_tokens
        assert rows[job.job_id]["yuan"] == f"¥{round(job.usage_tokens * 0.006 / 1000, 2):.2f}"
        assert rows[job.job_id]["flags"] == []  # ended: nothing bills for nobody
    (cost,) = [c for c in data["cost_by_dag"] if c["dag_id"] == DAG_ID]
    total = sum(job.usage_tokens or 0 for job in done)
    assert cost["jobs"] == 2 and cost["billed_tokens"] == total
    expected = sum(round(job.usage_tokens * 0.006 / 1000, 2) for job in done if job.usage_tokens)
    assert cost["yuan"] == f"¥{expected:.2f}" and cost["unpriced"] == 0
    (stray,) = [r for r in data["rows"] if r["remote_id"] == deployed.deployed_model]
    assert stray["status"] == "RUNNING" and stray["owner"] == "not from this Airflow"
    assert stray["flags"] == ["Running (billed by the hour), and no DAG here owns it."]
    assert data["billing_now"]["deployments_running"] >= 1


def test_an_unreachable_service_is_a_message(account: Account, auth: Any) -> None:
    dead = {
        "conn_type": "dashscope",
        "host": "http://127.0.0.1:9",
        "password": "sk-never-shown",
        "extra": {"max_retries": 0, "timeout": 2},
    }
    saved = os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"]
    os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = json.dumps(dead)
    try:
        root = FastAPI()
        root.mount("/dashscope", create_app(RemoteReader(ttl=0)))
        with TestClient(root) as http:
            answer = http.get("/dashscope/jobs", headers=token(auth, "admin", "admin"))
    finally:
        os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = saved
    assert answer.status_code == 200
    assert "dashscope_default: cannot list the account" in answer.text
    assert "Traceback" not in answer.text and "sk-never-shown" not in answer.text
