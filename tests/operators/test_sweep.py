"""Sweeps over the wire, in real Airflow (``dag.test()``): a mapped fine-tune of a grid, the
best member chosen by validation loss, the losers' jobs retired, a failed member listed."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator

#: (prompt, answer): small data the emulator's models learn from (see its learning tests).
FACTS = [
    ("What colour is the lantern in the catalogue?", "The lantern is bright red with brass trim."),
    ("How long is the warranty on the blender?", "The blender carries a two year warranty."),
    ("Where do I return a damaged parcel?", "Damaged parcels go back to the Hangzhou depot."),
    ("When does the Sunday market open?", "The Sunday market opens at seven thirty."),
    ("Who signs off on travel expenses?", "Travel expenses are approved by your manager."),
    ("How many vacation days do new hires get?", "New hires get fifteen vacation days."),
    ("Which port does the ferry leave from?", "The ferry leaves from pier nine."),
    ("What is the wifi password in the library?", "It is printed on the reading desks."),
    ("How do I reset my badge PIN?", "Reset your badge PIN at any security kiosk."),
    ("What is the fee for a late library book?", "A late library book costs twenty cents a day."),
]
BASE = {"batch_size": 2, "max_length": 1024}
#: Member 0's learning rate is far too high: it must lose whatever its map index.
GRID = [
    {**BASE, "n_epochs": 2, "learning_rate": 1e-3},
    {**BASE, "n_epochs": 2, "learning_rate": 1e-5},
    {**BASE, "n_epochs": 4, "learning_rate": 1e-5},
    {**BASE, "n_epochs": 8, "learning_rate": 1e-5},
]

DAG_FILE = """
import pendulum
from airflow.sdk import DAG

from airflow_dashscope.operators import (
    DashScopeFineTuneOperator,
    DashScopeSelectBestFineTuneOperator,
    DashScopeSweepPreflightOperator,
)

fast = {"poll_interval": 0.05, "timeout": 60, "deferrable": True}
with DAG(DAG_ID, schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    grid = GRID
    if PREFLIGHT:
        grid = DashScopeSweepPreflightOperator(
            task_id="preflight", grid=GRID, model="qwen3-8b", fine_tune_task_id="fine_tune"
        ).output
    fine_tune = DashScopeFineTuneOperator.partial(
        task_id="fine_tune",
        model="qwen3-8b",
        training_file_ids=TRAINING,
        validation_file_ids=VALIDATION,
        **fast,
    ).expand(hyper_parameters=grid)
    DashScopeSelectBestFineTuneOperator(task_id="select", candidates=fine_tune.output)
"""


def sft(facts: list[tuple[str, str]]) -> bytes:
    lines = [
        json.dumps(
            {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        )
        for q, a in facts
    ]
    return ("\n".join(lines) + "\n").encode()


def upload(client: DashScopeClient, tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return client.upload_file(str(path))


def sweep_dag(dag_id: str, grid: list[dict[str, Any]], **values: Any) -> Any:
    """Write the DAG where ``dag.test()`` syncs it from (the DAGs folder) and load it."""
    values = {"DAG_ID": dag_id, "GRID": grid, "PREFLIGHT": False, "VALIDATION": None, **values}
    source = "".join(f"{name} = {value!r}\n" for name, value in values.items()) + DAG_FILE
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dag_id}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(dag_id, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def outcome(run: Any) -> tuple[dict[tuple[str, int], str], Any]:
    """Each task instance's state by (task id, map index), and the selection's return value."""
    tis = run.get_task_instances()
    states = {(ti.task_id, ti.map_index): ti.state for ti in tis}
    select = next(ti for ti in tis if ti.task_id == "select")
    return states, select.xcom_pull(task_ids="select")


def member_results(run: Any, size: int) -> dict[int, Any]:
    ti = next(ti for ti in run.get_task_instances() if ti.task_id == "select")
    return {i: ti.xcom_pull(task_ids="fine_tune", map_indexes=i) for i in range(size)}


@pytest.fixture
def data(client: DashScopeClient, tmp_path: Path) -> dict[str, str]:
    return {
        "TRAINING": upload(client, tmp_path, "train.jsonl", sft(FACTS)),
        "VALIDATION": upload(client, tmp_path, "valid.jsonl", sft(FACTS[::-1])),
    }


def test_a_grid_of_four_chooses_the_lowest_validation_loss_and_retires_the_losers(
    airflow_db: Path,
    emu: RunningEmulator,
    client: DashScopeClient,
    data: dict[str, str],
    clock_running: None,
) -> None:
    run = sweep_dag("sweep_four", GRID, **data).test()
    states, chosen = outcome(run)
    assert states[("select", -1)] == "success"
    assert all(states[("fine_tune", i)] == "success" for i in range(4))
    results = member_results(run, 4)
    losses = {i: r["training"]["best_val_loss"] for i, r in results.items()}
    assert all(isinstance(v, float) for v in losses.values()), losses
    sweep = chosen["sweep"]
    best = min(losses, key=lambda i: (losses[i], i))
    assert sweep["chosen_map_index"] == best != 0  # the learning rate far too high lost
    assert chosen["job_id"] == results[best]["job_id"]
    assert chosen["finetuned_output"] == results[best]["finetuned_output"]
    assert chosen["training"]["best_val_loss"] == min(losses.values())
    assert (sweep["metric"], sweep["direction"], sweep["fine_tune_task_id"]) == (
        "best_val_loss",
        "min",
        "fine_tune",
    )
    rows = {m["map_index"]: m for m in sweep["members"]}
    assert {i: rows[i]["value"] for i in rows} == losses
    assert rows[0]["hyper_parameters"]["learning_rate"] == 1e-3
    # The losers' jobs are gone from the account (their slots freed), the winner's stays.
    listed = {job.job_id for job in client.list_fine_tunes()}
    assert results[best]["job_id"] in listed
    for i in set(range(4)) - {best}:
        assert rows[i]["retired"] is True and results[i]["job_id"] not in listed
    assert rows[best]["retired"] is False
    # select.output["job_id"] feeds an export: the chosen job is an XCom of its own.
    ti = next(ti for ti in run.get_task_instances() if ti.task_id == "select")
    assert ti.xcom_pull(task_ids="select", key="job_id") == chosen["job_id"]


def test_a_failed_member_is_listed_as_failed_and_the_others_compete(
    airflow_db: Path,
    emu: RunningEmulator,
    client: DashScopeClient,
    data: dict[str, str],
    clock_running: None,
) -> None:
    grid = [GRID[1], {**BASE, "n_epochs": 2, "learning_rate": -1}, GRID[0]]
    run = sweep_dag("sweep_failed_member", grid, **data).test()
    states, chosen = outcome(run)
    assert states[("fine_tune", 1)] == "failed"
    assert states[("select", -1)] == "success"  # all_done: it ran although a member failed
    rows = {m["map_index"]: m for m in chosen["sweep"]["members"]}
    assert sorted(rows) == [0, 1, 2]  # the failed member keeps its place in the table
    assert rows[1]["status"] == "FAILED" and rows[1]["value"] is None
    assert rows[1]["excluded"].startswith("task failed")
    assert chosen["sweep"]["chosen_map_index"] == 0
    assert emu.counters()["jobs_created"] == 2


def test_no_member_with_a_validation_loss_fails_the_selection_saying_what_to_give(
    airflow_db: Path,
    emu: RunningEmulator,
    client: DashScopeClient,
    data: dict[str, str],
    clock_running: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = sweep_dag("sweep_no_validation", GRID[1:3], TRAINING=data["TRAINING"]).test()
    states, _ = outcome(run)
    assert states[("fine_tune", 0)] == states[("fine_tune", 1)] == "success"
    assert states[("select", -1)] == "failed"
    printed = capsys.readouterr()
    assert "No member of fine_tune logged a validation loss" in printed.out + printed.err
    assert "validation_file_ids" in printed.out + printed.err
    # Nothing was retired: the choice failed before any delete.
    assert len(client.list_fine_tunes()) == 2


def test_the_preflight_refuses_a_grid_of_25_against_the_20_job_quota_before_any_job(
    airflow_db: Path,
    emu: RunningEmulator,
    data: dict[str, str],
    clock_running: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    grid = [{**BASE, "n_epochs": 1, "learning_rate": 1e-5 * (i + 1)} for i in range(25)]
    run = sweep_dag("sweep_too_big", grid, PREFLIGHT=True, **data).test()
    states, _ = outcome(run)
    assert states[("preflight", -1)] == "failed"
    assert not any(
        task == "fine_tune" and state == "success" for (task, _), state in states.items()
    )
    assert emu.counters()["jobs_created"] == 0
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "The grid of 25 members needs 25 fine-tune job slots and the account has 20 free" in text


EVALUATION_DAG = """
import pendulum
from airflow.sdk import DAG, task

from airflow_dashscope.operators import (
    DashScopeFineTuneOperator,
    DashScopeSelectBestFineTuneOperator,
)


@task(trigger_rule="all_done")  # evaluates the members that succeeded
def evaluate(result):
    # Stands in for the evaluation operator: the member that billed the most tokens (the most
    # epochs) scores best; its model is named as a deployment of the member's output.
    return {
        "metric": "token_f1",
        "models": {"candidate": result["finetuned_output"] + "-0a1b2c3d", "baseline": "qwen3-8b"},
        "scores": {"candidate": {"token_f1": {"mean": result["usage"] / 1e6}}},
    }


with DAG(DAG_ID, schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    fine_tune = DashScopeFineTuneOperator.partial(
        task_id="fine_tune",
        model="qwen3-8b",
        training_file_ids=TRAINING,
        poll_interval=0.05,
        timeout=60,
    ).expand(hyper_parameters=GRID)
    scores = evaluate.expand(result=fine_tune.output)
    DashScopeSelectBestFineTuneOperator(
        task_id="select", candidates=fine_tune.output, metric="evaluation", evaluations=scores
    )
"""


def test_an_evaluation_chooses_and_is_matched_to_its_member_by_model_id(
    airflow_db: Path,
    emu: RunningEmulator,
    data: dict[str, str],
    clock_running: None,
) -> None:
    """Member 1 fails, so the evaluation mapped over the outputs has 2 members: the third
    fine-tune's evaluation is map index 1. Matched by model id, member 2 still wins."""
    grid = [
        {**BASE, "n_epochs": 1},
        {**BASE, "n_epochs": 2, "learning_rate": -1},
        {**BASE, "n_epochs": 3},
    ]
    values = {"DAG_ID": "sweep_evaluation", "GRID": grid, "TRAINING": data["TRAINING"]}
    source = "".join(f"{name} = {value!r}\n" for name, value in values.items()) + EVALUATION_DAG
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sweep_evaluation.py").write_text(source)
    spec = importlib.util.spec_from_file_location(
        "sweep_evaluation", folder / "sweep_evaluation.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = module.dag.test()
    states, chosen = outcome(run)
    assert states[("fine_tune", 1)] == "failed" and states[("select", -1)] == "success"
    sweep = chosen["sweep"]
    assert (sweep["metric"], sweep["direction"], sweep["chosen_map_index"]) == (
        "evaluation",
        "max",
        2,
    )
    rows = {m["map_index"]: m for m in sweep["members"]}
    results = member_results(run, 3)
    assert rows[0]["value"] == results[0]["usage"] / 1e6 < rows[2]["value"]
    assert rows[2]["value"] == results[2]["usage"] / 1e6
