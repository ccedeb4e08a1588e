"""52 weekly runs of the shipped ETL and retraining examples against the emulator with the
account's real limits (20 jobs running or succeeded, 100 files, 5 GB), in simulated time:
the account stays within its quotas, a whole-run clear with the same data pays nothing, a
clear with changed data cancels the job it replaces, and what is billed is one training per
data set. Prints the weekly figures (docs/production.md, "A year of weekly retraining").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator, run_emulator
from airflow_dashscope.operators import retention
from airflow_dashscope.operators.identity import job_owner
from tests.soak.year import Week, md5_of, sample, table, year_of_examples
from tests.test_example_dags import EXAMPLES, _copy_examples, _events, load

pytestmark = pytest.mark.slow

WEEKS = int(os.environ.get("DASHSCOPE_SOAK_WEEKS", "52"))
#: The week run again as a whole with the same data (a whole-run clear).
CLEARED_WEEK = 10
#: The week whose data changes while its job trains (a clear with changed data).
CHANGED_WEEK = 30
WEEK_SECONDS = 7 * 86400
FIRST_MONDAY = pendulum.datetime(2026, 1, 5, tz="UTC")  # after the examples' start_date
#: The first try of the changed week runs in another process, killed once its job trains.
FIRST_TRY = """
import importlib.util, json, sys
import pendulum
spec = importlib.util.spec_from_file_location("retrain", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
day = pendulum.parse(sys.argv[2])
module.dag.test(logical_date=day, run_after=day, run_conf=json.loads(sys.argv[3]))
"""


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningEmulator]:
    """The emulator with its default (the real) limits and short phases, as the connection;
    retention measures ages on its clock."""
    with run_emulator(job_seconds=0.4, deploy_seconds=0.2, export_seconds=0.2) as emu:
        monkeypatch.setenv(
            "AIRFLOW_CONN_DASHSCOPE_DEFAULT",
            json.dumps({"conn_type": "dashscope", "host": emu.base_url, "password": emu.api_key}),
        )
        monkeypatch.setattr(
            retention, "utc_now", lambda: datetime.fromtimestamp(emu.clock.now(), timezone.utc)
        )
        yield emu


def succeeded(run: Any) -> dict[str, str]:
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success" and states, states
    return states


def xcom(run: Any, task_id: str) -> Any:
    return run.get_task_instance(task_id).xcom_pull(task_ids=task_id)


def job_in_training(client: DashScopeClient, known: set[str], emu: RunningEmulator) -> str:
    """The new job of the first try, brought to RUNNING (its PENDING phase skipped)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        new = [job for job in client.list_fine_tunes() if job.job_id not in known]
        if new and new[0].status_name == "RUNNING":
            return new[0].job_id
        if new:
            emu.advance(emu.settings.pending_seconds + 1)
        time.sleep(0.2)
    raise AssertionError("the first try's job never started training")


def first_try_until_training(
    emu: RunningEmulator, client: DashScopeClient, dags: Path, day: datetime, data: dict
) -> str:
    """Start the week's run in another process; once its job trains, kill that process (a
    clear while the job trains: nobody waits for the job any more). Returns the job id."""
    known = {job.job_id for job in client.list_fine_tunes()}
    long_run, emu.settings.job_seconds = emu.settings.job_seconds, 3600.0
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            FIRST_TRY,
            str(dags / "example_dashscope_retrain.py"),
            day.isoformat(),
            json.dumps(data),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return job_in_training(client, known, emu)
    finally:
        emu.settings.job_seconds = long_run
        process.kill()
        process.wait(timeout=30)


def test_a_year_of_weekly_retraining(
    airflow_db: Path,
    emulator: RunningEmulator,
    tmp_path: Path,
    example_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, load_before = time.monotonic(), os.getloadavg()
    emu = emulator
    monkeypatch.setenv("DASHSCOPE_EXAMPLE_DATA_URL", f"file://{example_data_dir}")
    monkeypatch.setenv("DASHSCOPE_EXAMPLE_POLL_SECONDS", "0.05")
    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    _copy_examples(dags)
    etl, retrain = load("example_dashscope_etl", dags), load("example_dashscope_retrain", dags)
    source = tmp_path / "year.jsonl"
    source.write_text(year_of_examples(EXAMPLES / "data" / "sft_sample.jsonl", copies=6))
    monkeypatch.setattr(etl, "SOURCE", source)
    client = DashScopeClient(api_key=emu.api_key, base_url=emu.base_url)
    weeks: list[Week] = []
    billed: dict[str, int] = {}
    trained: dict[str, tuple[int, str]] = {}  # job id -> (estimated tokens, data's MD5)
    cancelled: str | None = None
    for week in range(1, WEEKS + 1):
        emu.advance(WEEK_SECONDS)
        day = FIRST_MONDAY.add(weeks=week - 1)
        data_run = etl.dag.test(logical_date=day, run_after=day)
        succeeded(data_run)
        (data,) = _events("example_dashscope_etl", data_run.run_id)
        if week == CHANGED_WEEK:
            cancelled = first_try_until_training(emu, client, dags, day, data.extra)
            train = Path(data.extra["train"].removeprefix("file://"))
            train.write_text("".join(train.read_text().splitlines(keepends=True)[1:]))
        run = retrain.dag.test(logical_date=day, run_after=day, run_conf=data.extra)
        succeeded(run)
        tuned = xcom(run, "fine_tune")
        if not tuned["reused"]:
            trained[tuned["job_id"]] = (tuned["estimated_tokens"], md5_of(data.extra["train"]))
        if week == CHANGED_WEEK:
            assert cancelled and cancelled != tuned["job_id"]
            gone = {e["id"]: e["why"] for e in xcom(run, "retain")["deleted"]}
            if cancelled in gone:
                assert "CANCELED" in gone[cancelled]
            else:
                assert client.get_fine_tune(cancelled).status_name in {"CANCELING", "CANCELED"}
        if week == CLEARED_WEEK:
            before = emu.counters()
            succeeded(etl.dag.test(logical_date=day, run_after=day))
            again = retrain.dag.test(logical_date=day, run_after=day, run_conf=data.extra)
            states = succeeded(again)
            assert xcom(again, "fine_tune")["reused"] is True
            assert states["promote"] == "skipped" and states["retain"] == "success"
            after = emu.counters()
            for paid in ("jobs_created", "files_uploaded", "deployments_created"):
                assert after[paid] == before[paid], paid
        weeks.append(sample(week, client, billed, retrain.BASE_MODEL, xcom(run, "retain")))
        limits = emu.settings
        assert weeks[-1].peak_jobs <= limits.max_jobs and weeks[-1].files <= limits.max_files
        assert weeks[-1].stored_bytes <= limits.max_total_bytes

    jobs = client.list_fine_tunes()
    assert not [job.job_id for job in jobs if job.status_name in {"PENDING", "QUEUING", "RUNNING"}]
    assert all((o := job_owner(j.job_name)) and o.of_dag("example_dashscope_retrain") for j in jobs)
    running = [d for d in client.list_deployments() if d.status_name == "RUNNING"]
    assert [d.name for d in running] == [retrain.PRODUCTION]
    made = {c.model_name for j in jobs for c in client.list_checkpoints(j.job_id)}
    assert running[0].model_name in made | {j.finetuned_output for j in jobs}
    # One training per data set: every trained week had new data, and it billed its estimate.
    data_sets = [digest for _, digest in trained.values()]
    assert len(set(data_sets)) == len(data_sets) == WEEKS
    assert sum(billed.values()) == sum(estimate for estimate, _ in trained.values())
    assert cancelled is None or billed.get(cancelled, 0) == 0
    counters = emu.counters()
    print(f"\n{table(weeks)}")
    print(
        f"weeks {WEEKS}, retraining runs {WEEKS + (WEEKS >= CLEARED_WEEK)} (and the killed "
        f"first try of week {CHANGED_WEEK}), jobs created "
        f"{counters['jobs_created']}, files uploaded {counters['files_uploaded']}, "
        f"deployments created {counters['deployments_created']}, max jobs "
        f"{max(w.jobs for w in weeks)} (peak {max(w.peak_jobs for w in weeks)}), max files "
        f"{max(w.files for w in weeks)}, max bytes "
        f"{max(w.stored_bytes for w in weeks)}, billed {weeks[-1].billed_tokens} tokens, "
        f"{weeks[-1].yuan} yuan, {time.monotonic() - started:.0f} s, load "
        f"{load_before[0]:.2f} -> {os.getloadavg()[0]:.2f}"
    )
