"""The tab's page logic, as pure functions (no browser, no server): axes, times, the fine-tune
tab's fixes, and who removed a deployment."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from airflow_dashscope.client.errors import NotFoundError
from airflow_dashscope.client.models import Checkpoint, FineTuneJob
from airflow_dashscope.plugins.axes import loss_axes, nice_step, nice_ticks
from airflow_dashscope.plugins.records import TaskRecord
from airflow_dashscope.plugins.removals import removed_ids, removers
from airflow_dashscope.plugins.timezone import ui_timezone
from airflow_dashscope.plugins.views import (
    NOT_EXPORTED,
    checkpoint_rows,
    checkpoint_status,
    deployment_row,
    estimate,
    training,
)
from airflow_dashscope.waiting.training_log import summarize


def record(kind: str = "export", **fields: Any) -> TaskRecord:
    base: dict[str, Any] = {
        "dag_id": "d",
        "run_id": "r",
        "task_id": kind,
        "map_index": -1,
        "kind": kind,
        "state": "success",
        "start_date": None,
        "end_date": None,
    }
    return TaskRecord(**{**base, **fields})


def is_nice(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m) for m in (1, 2, 5))


@pytest.mark.parametrize(
    ("low", "high"),
    [(0.37, 2.41), (0, 10), (0, 137), (0.012, 0.019), (1.5, 1.5), (0, 1_000_003), (3, 0)],
)
def test_ticks_are_evenly_spaced_nice_and_cover_the_range(low: float, high: float) -> None:
    ticks = nice_ticks(low, high)
    steps = {round(b - a, 12) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1, ticks
    (step,) = steps
    assert is_nice(step), step
    assert ticks[0] <= min(low, high) and ticks[-1] >= max(low, high)
    assert 3 <= len(ticks) <= 12
    assert all(math.isclose(t / step, round(t / step), abs_tol=1e-6) for t in ticks)


def test_integer_axes_never_step_below_one() -> None:
    assert nice_ticks(0, 3, integer=True) == [0, 1, 2, 3]
    assert nice_step(3) == 1 and nice_step(0) == 1.0


def test_loss_axes_span_training_and_every_curve() -> None:
    curves = [
        [{"step": 1, "epoch": 0.1, "train_loss": 2.3}, {"step": 7, "epoch": 0.7, "val_loss": 1.1}],
        [{"step": 3, "epoch": 0.3, "train_loss": 0.9}],
    ]
    axes = loss_axes(curves, total_steps=10, total_epochs=1)
    assert axes is not None
    assert axes["step"][0] == 0 and axes["step"][-1] == 10
    assert axes["loss"][0] <= 0.9 and axes["loss"][-1] >= 2.3
    assert axes["epoch"][-1] == 1
    assert loss_axes([[{"step": 1}]]) is None


def test_times_follow_airflows_zone() -> None:
    assert ui_timezone("utc") == ui_timezone(None) == "UTC"
    assert ui_timezone("Asia/Shanghai") == "Asia/Shanghai"
    assert ui_timezone("Not/AZone") == "UTC"
    assert ui_timezone("system")  # an IANA name, whatever the machine's


def _job(status: str = "SUCCEEDED") -> FineTuneJob:
    return FineTuneJob.model_validate(
        {"job_id": "ft-1", "status": status, "finetuned_output": "m-final", "model": "qwen3-8b"}
    )


def _checkpoints() -> list[Checkpoint]:
    return [
        Checkpoint.model_validate(
            {"checkpoint": f"checkpoint-{s}", "status": st, "model_name": f"m-{s}", "step": s}
        )
        for s, st in ((5, "PENDING"), (10, "PENDING"), (15, "PROCESSING"))
    ]


def test_a_checkpoint_nobody_exported_is_not_exported_rather_than_pending() -> None:
    assert checkpoint_status("PENDING", exported=False, exporting=False) == NOT_EXPORTED
    assert checkpoint_status("PENDING", exported=False, exporting=True) == "PENDING"
    assert checkpoint_status("PROCESSING", exported=False, exporting=False) == "PROCESSING"
    assert checkpoint_status("SUCCEEDED", exported=False, exporting=False) == "SUCCEEDED"
    running_export = record(state="running", rendered={"job_id": "ft-1", "checkpoint": "latest"})
    rows = checkpoint_rows(_checkpoints(), [running_export], _job())
    by_name = {r["checkpoint"]: r["status"] for r in rows}
    # "latest" is the newest step (15, PROCESSING); the others nobody asked to export.
    assert by_name == {
        "checkpoint-15": "PROCESSING",
        "checkpoint-10": NOT_EXPORTED,
        "checkpoint-5": NOT_EXPORTED,
    }
    asked = record(state="deferred", rendered={"job_id": "ft-1", "checkpoint": "checkpoint-5"})
    rows = checkpoint_rows(_checkpoints(), [asked], _job())
    assert {r["checkpoint"]: r["status"] for r in rows}["checkpoint-5"] == "PENDING"
    other_job = record(state="running", rendered={"job_id": "ft-2", "checkpoint": "checkpoint-5"})
    rows = checkpoint_rows(_checkpoints(), [other_job], _job())
    assert {r["checkpoint"]: r["status"] for r in rows}["checkpoint-5"] == NOT_EXPORTED


LOG = [
    "2025-01-01 10:00:00 step 1/4 epoch 1/2 loss 2.0 lr 1e-4",
    "2025-01-01 10:00:01 step 2/4 epoch 1/2 loss 1.5 lr 1e-4",
]


def test_the_last_loss_is_latest_until_the_job_ended() -> None:
    summary = summarize(LOG)
    assert training(summary, ended=False)["loss_label"] == "Latest loss"
    assert training(summary, ended=True)["loss_label"] == "Final loss"
    assert (
        training(summary, ended=True)["axes"] is None
        or "loss" in training(summary, ended=True)["axes"]
    )


def test_the_estimate_is_shown_or_why_not_never_a_bare_dash() -> None:
    assert estimate({"estimated_tokens": 1200}, {}) == (1200, None)
    # While the job runs there is no result: the rendered fields give it.
    rendered = {"training_tokens": 300, "hyper_parameters": {"n_epochs": 3}}
    assert estimate({}, rendered) == (900, None)
    assert (
        estimate({}, {"training_tokens": [100, "200"], "hyper_parameters": {"n_epochs": 2}})[0]
        == 600
    )
    value, why = estimate({}, {"hyper_parameters": {"n_epochs": 3}})
    assert value is None and why is not None and "no training_tokens" in why
    value, why = estimate({}, {"training_tokens": 300, "hyper_parameters": {}})
    assert value is None and why is not None and "n_epochs" in why


def test_a_deployment_the_dag_removed_says_by_which_task() -> None:
    def console(kind: str, rid: str) -> str:
        return f"https://console/{kind}/{rid}"

    gone = deployment_row("dep-1", None, None, console, "teardown")
    assert gone["status"] == "REMOVED" and gone["removed_by"] == "teardown"
    assert deployment_row("dep-1", None, None, console)["status"] == "NOT FOUND"


def test_removers_read_retention_promotion_and_delete_tasks() -> None:
    retention = {
        "dry_run": False,
        "deleted": [
            {"resource": "deployment", "id": "dep-a", "why": "old"},
            {"resource": "job", "id": "dep-b", "why": "a job with that id is not a deployment"},
        ],
    }
    assert removed_ids(retention) == {"dep-a"}
    assert removed_ids({**retention, "dry_run": True}) == set()
    assert removed_ids({"retired": ["dep-c"]}) == {"dep-c"}
    assert removed_ids(None) == set()
    found = removers(
        [("retain", retention), ("promote", {"retired": ["dep-c"]}), ("x", "text")],
        [("teardown", "dep-d"), ("other", None)],
        {"dep-a", "dep-b", "dep-c", "dep-d", "dep-e"},
    )
    assert found == {"dep-a": "retain", "dep-c": "promote", "dep-d": "teardown"}


def test_a_gone_log_reads_as_retired() -> None:
    from airflow_dashscope.plugins.sweep import read_curves

    def read(job_id: str) -> list[str]:
        if job_id == "gone":
            raise NotFoundError("no such job", status_code=404)
        return LOG

    curves = read_curves(["ok", "gone", "ok"], read)
    assert curves["gone"] == "retired"
    assert not isinstance(curves["ok"], str) and curves["ok"].steps == 2
