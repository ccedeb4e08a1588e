"""Retraining semantics and the example DAGs under ``airflow standalone``: a real scheduler,
LocalExecutor, triggerer and API server, acted on through the REST API the UI uses.

One standalone serves every scenario of this module (starting it is most of the cost). The
emulator serves on loopback from this test process; Airflow runs as its own process group
in a throw-away AIRFLOW_HOME and is stopped at the end. All runs are started at once by the
module fixture, so their remote jobs progress side by side; each test then drives its own
run (clear, mark success, mark failed...) and checks the outcome:

* clear of a deferred fine-tune: one job, not cancelled, the new try succeeds;
* mark success of a deferred fine-tune: the job is not cancelled;
* mark failed of a deferred fine-tune: the job is cancelled (Airflow >= 3.3 calls the
  trigger's ``on_kill``; older versions cannot, see the README);
* clear with the same inputs reuses the job (no new model event); clear with new data
  trains again on the new file;
* a task whose process dies right after creating its job reattaches on retry (one job);
* an unknown model fails the task at once, without a retry or a create;
* the ETL -> retraining -> smoke-test examples: the smoke test runs once per deployment.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator import run_emulator
from airflow_dashscope.emulator.runner import RunningEmulator
from tests.e2e.harness import EXAMPLES, START_TIMEOUT, free_port, standalone_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
AIRFLOW_VERSION = Version(airflow_version)

RUN_TIMEOUT = 300
DAG = "e2e_retraining"
#: The scenarios' DAG: upload -> fine-tune, as a user writes it. A run whose conf says
#: ``crash`` dies (like a lost worker) right after creating its job on the first try.
DAG_FILE = """
import os
import pendulum
from airflow.sdk import DAG

from airflow_dashscope.operators import DashScopeFineTuneOperator, DashScopeUploadFileOperator


class CrashingFineTune(DashScopeFineTuneOperator):
    def create(self, job_name, jobs):
        job = super().create(job_name, jobs)
        context = self._context
        if context["dag_run"].conf.get("crash") and context["ti"].try_number == 1:
            os._exit(1)  # the worker dies: no XCom, no deferral, no failure handling
        return job

    def execute(self, context):
        self._context = context
        return super().execute(context)


# Retries cover a loaded machine's executor hiccups; no retry may fix an unknown model.
default_args = {"retries": 2, "retry_delay": pendulum.duration(seconds=1)}
with DAG(
    "e2e_retraining",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    default_args=default_args,
) as dag:
    upload = DashScopeUploadFileOperator(task_id="upload", file_path=TRAINING_PATH)
    CrashingFineTune(
        task_id="fine_tune",
        model="{{ dag_run.conf.get('model', 'qwen3-8b') }}",
        training_file_ids=upload.output,
        hyper_parameters={"n_epochs": "1", "batch_size": "8", "max_length": "1024"},
        deferrable=True,
        poll_interval=5,
    )

# The same step waiting on its worker (no triggerer involved): a user's action reaches the
# operator's on_kill through the task's supervisor.
with DAG(
    "e2e_worker_wait",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    default_args=default_args,
) as worker_dag:
    DashScopeFineTuneOperator(
        task_id="fine_tune",
        model="qwen3-8b",
        training_file_ids=DashScopeUploadFileOperator(
            task_id="upload", file_path=TRAINING_PATH
        ).output,
        hyper_parameters={"n_epochs": "1", "batch_size": "8", "max_length": "1024"},
        deferrable=False,
        poll_interval=2,
    )
"""
WORKER_DAG = "e2e_worker_wait"


def wait_for(what: str, check: Callable[[], Any], timeout: float = RUN_TIMEOUT) -> Any:
    """Poll ``check`` until it returns something true (a slow API answer is a "not yet")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.TimeoutException:
            value = None
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}")


@dataclass
class Airflow:
    """A running standalone and a client of its REST API (what the UI calls)."""

    home: Path
    api: httpx.Client
    emulator: RunningEmulator
    runs: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.api.request(method, f"/api/v2{path}", **kwargs)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        body = {"logical_date": None, "conf": conf or {}}
        return str(self.call("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def runs_of(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def ti(self, run_id: str, task_id: str = "fine_tune", dag_id: str = DAG) -> dict[str, Any]:
        return dict(self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"))

    def job_id(self, run_id: str, dag_id: str = DAG) -> str:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/fine_tune/xcomEntries/job_id"
        value = self.call("GET", path, params={"deserialize": True})["value"]
        return str(value).strip('"')

    def mark(self, run_id: str, state: str, task_id: str = "fine_tune", dag_id: str = DAG) -> None:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        self.call("PATCH", path, json={"new_state": state})

    def clear(self, run_id: str, task_ids: list[str]) -> None:
        body = {
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": task_ids,
            "only_failed": False,
            "reset_dag_runs": True,
        }
        self.call("POST", f"/dags/{DAG}/clearTaskInstances", json=body)

    def finished(self, run_id: str, dag_id: str = DAG) -> str:
        return wait_for(
            f"{dag_id} {run_id} to finish",
            lambda: (s := self.run_state(dag_id, run_id)) in ("success", "failed") and s,
        )

    def deferred(self, run_id: str) -> None:
        wait_for(f"{run_id} to defer", lambda: self.ti(run_id)["state"] == "deferred")

    def trigger_polling(self, run_id: str, job_id: str) -> None:
        """Wait until a triggerer runs the fine-tune's trigger (it has polled the job once).

        A user acts on a waiting task seconds to hours after it deferred; acting within the
        second between the deferral and a triggerer picking the trigger up reaches no
        trigger at all (docs/user-actions.md), which is not what these tests are about.
        """
        folder = self.home / "logs" / f"dag_id={DAG}" / f"run_id={run_id}"
        seen = f"DashScope fine-tune job {job_id} is "

        def polled() -> bool:
            return any(seen in p.read_text(errors="replace") for p in folder.rglob("*trigger*"))

        wait_for(f"the trigger of {run_id} to poll", polled)

    def events(self, dag_id: str, run_id: str, kind: str) -> list[dict[str, Any]]:
        params = {"source_dag_id": dag_id, "source_run_id": run_id, "limit": 100}
        events = self.call("GET", "/assets/events", params=params)["asset_events"]
        return [e for e in events if (e.get("extra") or {}).get("kind") == kind]

    def trained_events(self, run_id: str) -> list[dict[str, Any]]:
        return self.events(DAG, run_id, "trained")

    def jobs(self) -> list[Any]:
        with DashScopeClient(api_key="sk-e2e", base_url=self.emulator.base_url) as client:
            return client.list_fine_tunes()


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Airflow]:
    tmp = tmp_path_factory.mktemp("standalone")
    dags = tmp / "dags"
    shutil.copytree(
        EXAMPLES,
        dags,
        ignore=shutil.ignore_patterns(
            "run_demo.py", "__pycache__", "example_dashscope_finetune.py"
        ),
    )
    # The scenarios' own copy: "new data" rewrites it, the examples keep their sample.
    training = dags / "data" / "e2e_train.jsonl"
    shutil.copyfile(dags / "data" / "sft_sample.jsonl", training)
    (dags / "e2e_retraining.py").write_text(f"TRAINING_PATH = {str(training)!r}\n{DAG_FILE}")
    port = free_port()
    with run_emulator(job_seconds=12, deploy_seconds=6, export_seconds=4, api_key=None) as emu:
        env = standalone_env(tmp / "home", dags, emu.base_url, port)
        env.update(
            {
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "DASHSCOPE_EXAMPLE_POLL_SECONDS": "5",
                "DASHSCOPE_EXAMPLE_DATA_URL": f"file://{tmp / 'data'}",
            }
        )
        log = tmp / "standalone.log"
        with log.open("w") as out:
            standalone = subprocess.Popen(
                [sys.executable, "-m", "airflow", "standalone"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        try:

            def token() -> str | None:
                try:
                    answer = api.get("/auth/token")
                except httpx.HTTPError:
                    return None
                return answer.json()["access_token"] if answer.status_code < 300 else None

            access = wait_for("the API server", token, START_TIMEOUT)
            api.headers["Authorization"] = f"Bearer {access}"
            airflow = Airflow(tmp / "home", api, emu)
            wanted = {DAG, WORKER_DAG, "example_dashscope_etl", "example_dashscope_retrain"}

            def parsed() -> bool:
                listed = airflow.call("GET", "/dags", params={"limit": 100})["dags"]
                return wanted <= {d["dag_id"] for d in listed}

            wait_for("the DAGs to be parsed", parsed, START_TIMEOUT)
            unpaused = (
                DAG,
                WORKER_DAG,
                "example_dashscope_retrain",
                "example_dashscope_on_new_model",
            )
            for dag_id in unpaused:
                airflow.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
            # The passive scenarios start now and progress while the others are driven.
            airflow.runs["crash"] = airflow.trigger(DAG, {"crash": True})
            airflow.runs["unknown_model"] = airflow.trigger(DAG, {"model": "qwen-max"})
            # Unpaused, the weekly ETL runs once for its latest interval (as a user sees it).
            airflow.call("PATCH", "/dags/example_dashscope_etl", json={"is_paused": False})
            yield airflow
        finally:
            api.close()
            os.killpg(standalone.pid, signal.SIGTERM)
            try:
                standalone.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(standalone.pid, signal.SIGKILL)
                standalone.wait()
            logs = list((tmp / "home" / "logs").rglob("*.log"))
            assert "sk-e2e" not in "".join(p.read_text(errors="replace") for p in logs)


def test_clearing_a_deferred_fine_tune_reattaches(airflow: Airflow) -> None:
    run = airflow.runs["clear"] = airflow.trigger(DAG)
    airflow.deferred(run)
    job_before = airflow.job_id(run)
    airflow.clear(run, ["fine_tune"])
    assert airflow.finished(run) == "success"
    assert airflow.ti(run)["try_number"] >= 2
    assert airflow.job_id(run) == job_before
    ours = [j for j in airflow.jobs() if j.job_id == job_before]
    assert [j.status_name for j in ours] == ["SUCCEEDED"]  # not cancelled by the old trigger
    assert len(airflow.trained_events(run)) == 1


def test_clearing_again_with_the_same_inputs_reuses_the_job(airflow: Airflow) -> None:
    run = airflow.runs["clear"]
    jobs_before = len(airflow.jobs())
    airflow.clear(run, ["fine_tune"])
    assert airflow.finished(run) == "success"
    assert len(airflow.jobs()) == jobs_before
    assert len(airflow.trained_events(run)) == 1  # the reused model is not announced again


def test_clearing_with_new_data_trains_again_on_the_new_file(airflow: Airflow) -> None:
    run = airflow.runs["clear"]
    old_job = airflow.job_id(run)
    # New data is new content: a re-upload of the same bytes reuses the stored file (and so
    # the job), so the training file gains an example before the clear.
    training = airflow.home.parent / "dags" / "data" / "e2e_train.jsonl"
    lines = training.read_text().splitlines()
    training.write_text("\n".join([*lines, lines[0]]) + "\n")
    airflow.clear(run, ["upload", "fine_tune"])
    assert airflow.finished(run) == "success"
    new_job = airflow.job_id(run)
    assert new_job != old_job
    by_id = {j.job_id: j for j in airflow.jobs()}
    assert by_id[new_job].training_file_ids != by_id[old_job].training_file_ids
    assert len(airflow.trained_events(run)) == 2


def job_status(airflow: Airflow, job_id: str) -> str:
    return str(next(j for j in airflow.jobs() if j.job_id == job_id).status_name)


def test_marking_a_deferred_fine_tune_success_keeps_the_job(airflow: Airflow) -> None:
    run = airflow.trigger(DAG)
    airflow.deferred(run)
    job_id = airflow.job_id(run)
    if Version("3.3") <= AIRFLOW_VERSION:
        airflow.trigger_polling(run, job_id)
    airflow.mark(run, "success")
    if Version("3.3") <= AIRFLOW_VERSION:  # the trigger's on_kill decides from the state

        def decided() -> bool:
            folder = airflow.home / "logs" / f"dag_id={DAG}" / f"run_id={run}"
            logs = folder.rglob("*trigger*")
            return any("keeps running" in p.read_text(errors="replace") for p in logs)

        wait_for("the trigger's on_kill", decided)
    assert job_status(airflow, job_id) not in ("CANCELING", "CANCELED")
    ended = wait_for(
        "the job to end",
        lambda: (s := job_status(airflow, job_id)) in ("SUCCEEDED", "CANCELED", "FAILED") and s,
    )
    assert ended == "SUCCEEDED"


def test_marking_a_deferred_fine_tune_failed_cancels_the_job(airflow: Airflow) -> None:
    run = airflow.trigger(DAG)
    airflow.deferred(run)
    job_id = airflow.job_id(run)
    airflow.emulator.extend_job(job_id, 120)  # still running whenever the triggerer acts
    if Version("3.3") <= AIRFLOW_VERSION:
        airflow.trigger_polling(run, job_id)
    airflow.mark(run, "failed")
    ended = ("CANCELING", "CANCELED", "SUCCEEDED")
    status = wait_for(
        "the job to be cancelled", lambda: (s := job_status(airflow, job_id)) in ended and s
    )
    if Version("3.3") <= AIRFLOW_VERSION:
        assert status in ("CANCELING", "CANCELED")
    else:  # pragma: no cover - no trigger on_kill before 3.3 (documented in the README)
        pytest.skip("Airflow < 3.3 does not call a trigger's on_kill")


def test_marking_a_fine_tune_waiting_on_its_worker_failed_cancels_the_job(
    airflow: Airflow,
) -> None:
    """The worker-side path: the supervisor stops the task process, whose on_kill reads the
    task instance's state through the supervisor and cancels only for ``failed``."""
    run = airflow.trigger(WORKER_DAG)

    def waiting_on_worker() -> str | None:
        if airflow.ti(run, dag_id=WORKER_DAG)["state"] != "running":
            return None
        try:
            return airflow.job_id(run, dag_id=WORKER_DAG)
        except AssertionError:  # no job id yet
            return None

    job_id = wait_for("the fine-tune to wait on its worker", waiting_on_worker)
    airflow.emulator.extend_job(job_id, 120)  # still running whenever the worker acts
    airflow.mark(run, "failed", dag_id=WORKER_DAG)
    ended = ("CANCELING", "CANCELED", "SUCCEEDED")
    status = wait_for(
        "the job to be cancelled", lambda: (s := job_status(airflow, job_id)) in ended and s
    )
    assert status in ("CANCELING", "CANCELED")
    assert airflow.ti(run, dag_id=WORKER_DAG)["state"] == "failed"


def test_a_retry_after_a_crash_reattaches(airflow: Airflow) -> None:
    run = airflow.runs["crash"]
    assert airflow.finished(run) == "success"
    assert airflow.ti(run)["try_number"] >= 2
    job_id = airflow.job_id(run)
    ours = [j for j in airflow.jobs() if j.job_name and j.job_id == job_id]
    stem = ours[0].job_name.rsplit("-c", 1)[0]
    assert [j.job_id for j in airflow.jobs() if (j.job_name or "").startswith(stem)] == [job_id]


def test_an_unknown_model_fails_without_retry_or_create(airflow: Airflow) -> None:
    run = airflow.runs["unknown_model"]
    assert airflow.finished(run) == "failed"
    ti = airflow.ti(run)
    assert ti["state"] == "failed" and ti["max_tries"] >= 2
    assert ti["try_number"] == 1  # AirflowFailException: its retries were not used
    assert all(j.model != "qwen-max" for j in airflow.jobs())


def test_the_examples_retrain_and_smoke_test_once_per_deployment(airflow: Airflow) -> None:
    (etl,) = wait_for("the ETL run", lambda: airflow.runs_of("example_dashscope_etl"))
    assert airflow.finished(etl["dag_run_id"], "example_dashscope_etl") == "success"
    retrain = wait_for("the retraining run", lambda: airflow.runs_of("example_dashscope_retrain"))
    assert len(retrain) == 1
    run_id = retrain[0]["dag_run_id"]
    assert airflow.finished(run_id, "example_dashscope_retrain") == "success"
    # One deployment announced (production); the candidate, torn down, was not.
    (deployed,) = airflow.events("example_dashscope_retrain", run_id, "deployed")
    runs = wait_for(
        "the smoke test to finish",
        lambda: [
            r
            for r in airflow.runs_of("example_dashscope_on_new_model")
            if r["state"] in ("success", "failed")
        ],
    )
    # The deployment events were recorded before the retraining run ended, so every smoke
    # test run they could queue exists by now: exactly one, and it succeeded.
    assert [r["state"] for r in airflow.runs_of("example_dashscope_on_new_model")] == ["success"]
    assert [r["state"] for r in runs] == ["success"]
    assert deployed["extra"]["deployed_model"]
