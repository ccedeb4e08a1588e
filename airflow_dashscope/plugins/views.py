"""The JSON the pages draw: a fine-tune task's job, curve, checkpoints, cost and deployments,
and the links the DashScope page uses. Pure functions of what was read (no I/O), so what a page
shows is tested without a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pendulum

from airflow_dashscope.checks.budget import check_budget
from airflow_dashscope.client.models import SERVICE_TIMEZONE, Checkpoint, Deployment, FineTuneJob
from airflow_dashscope.exceptions import InvalidRequestError
from airflow_dashscope.plugins.axes import loss_axes
from airflow_dashscope.plugins.records import TaskRecord
from airflow_dashscope.waiting.training_log import TrainingSummary

#: Makes the console link of a resource: ``console(kind, resource_id) -> url``.
Console = Callable[[str, str], str]

#: Seconds between two refreshes of a page that shows something still moving.
REFRESH_SECONDS = 3
ACTIVE_JOB = frozenset({"PENDING", "QUEUING", "RUNNING", "CANCELING"})
ACTIVE_DEPLOYMENT = frozenset({"PENDING", "DEPLOYING", "UPDATING", "DELETING"})
#: Task states of an export still under way (its checkpoint's PENDING is then real).
ACTIVE_TASK = frozenset(
    {"scheduled", "queued", "running", "deferred", "up_for_retry", "restarting"}
)
#: Task states after which a task records nothing more.
ENDED_TASK = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
#: What the page shows for a checkpoint the service lists as PENDING that nobody exported
#: (the service does not tell "not exported" from "export queued").
NOT_EXPORTED = "NOT EXPORTED"


def _iso(value: datetime | None) -> str | None:
    return pendulum.instance(value).in_tz("UTC").isoformat() if value else None


def _service_time(text: str | None) -> datetime | None:
    """A log timestamp (service-local, no zone) as an aware time."""
    if not text:
        return None
    try:
        parsed = pendulum.parse(text, tz=SERVICE_TIMEZONE)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        return None
    return parsed if isinstance(parsed, datetime) else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def task_link(record: TaskRecord) -> str:
    """The task instance's page in Airflow's UI, relative to the UI's base URL."""
    path = (
        f"dags/{quote(record.dag_id, safe='')}/runs/{quote(record.run_id, safe='')}"
        f"/tasks/{quote(record.task_id, safe='')}"
    )
    return path + (f"/mapped/{record.map_index}" if record.map_index >= 0 else "")


def run_link(record: TaskRecord) -> str:
    return f"dags/{quote(record.dag_id, safe='')}/runs/{quote(record.run_id, safe='')}"


def task_info(record: TaskRecord) -> dict[str, Any]:
    return {
        "dag_id": record.dag_id,
        "run_id": record.run_id,
        "task_id": record.task_id,
        "map_index": record.map_index,
        "kind": record.kind,
        "state": record.state,
        "start_date": _iso(record.start_date),
        "end_date": _iso(record.end_date),
        "conn_id": record.conn_id,
        "task_link": task_link(record),
        "run_link": run_link(record),
    }


def timeline(job: FineTuneJob, summary: TrainingSummary) -> dict[str, Any]:
    created = job.create_time
    started = _service_time(summary.started_at)
    finished = job.end_time or _service_time(summary.finished_at)
    now = pendulum.now("UTC") if job.status_name in ACTIVE_JOB else None
    return {
        "created": _iso(created),
        "started": _iso(started),
        "finished": _iso(finished) if job.status_name not in ACTIVE_JOB else None,
        "queue_seconds": _seconds(created, started or now),
        "run_seconds": _seconds(started, finished if job.status_name not in ACTIVE_JOB else now),
    }


def _exports_of(job: FineTuneJob, exports: list[TaskRecord]) -> tuple[dict[str, str], set[str]]:
    """The DAG's exports of ``job``'s checkpoints: ``{checkpoint: task_id}`` of those done, and
    the checkpoints whose export task is still under way (``latest``: the newest)."""
    done: dict[str, str] = {}
    under_way: set[str] = set()
    for export in exports:
        job_id = export.result.get("job_id") or export.rendered.get("job_id")
        if job_id not in (None, job.job_id):
            continue
        if export.remote_id:
            done[export.remote_id] = export.task_id
        elif export.state in ACTIVE_TASK:
            under_way.add(str(export.rendered.get("checkpoint") or "latest"))
    return done, under_way


def checkpoint_status(status: str | None, *, exported: bool, exporting: bool) -> str | None:
    """The status to show: the service lists a checkpoint nobody exported as PENDING, which
    looks stuck; only an export this Airflow asked for and has not seen end is PENDING."""
    if status == "PENDING" and not (exported or exporting):
        return NOT_EXPORTED
    return status or None


def checkpoint_rows(
    checkpoints: list[Checkpoint], exports: list[TaskRecord], job: FineTuneJob
) -> list[dict[str, Any]]:
    """Newest first; ``exported_by`` names the DAG's export task that published it."""
    exported, under_way = _exports_of(job, exports)
    rows = []
    ordered = sorted(checkpoints, key=lambda c: c.step_number, reverse=True)
    for index, ckpt in enumerate(ordered):
        by = exported.get(ckpt.checkpoint) or exported.get(ckpt.checkpoint_id or "")
        exporting = bool({ckpt.checkpoint, ckpt.checkpoint_id} & under_way) or (
            index == 0 and "latest" in under_way
        )
        rows.append(
            {
                "checkpoint": ckpt.checkpoint,
                "step": ckpt.step_number if ckpt.step_number >= 0 else None,
                "status": checkpoint_status(
                    ckpt.status_name, exported=by is not None, exporting=exporting
                ),
                "service_status": ckpt.status_name or None,
                "model_name": ckpt.model_name,
                "created": _iso(ckpt.create_time),
                "exported_by": by,
                "final": ckpt.model_name is not None and ckpt.model_name == job.finetuned_output,
            }
        )
    return rows


def deployment_row(
    deployed_model: str,
    deployment: Deployment | None,
    task: TaskRecord | None,
    console: Console,
    removed_by: str | None = None,
) -> dict[str, Any]:
    """One deployment; one gone that a task of the DAG removed is REMOVED, by that task."""
    gone = "REMOVED" if removed_by else "NOT FOUND"
    return {
        "deployed_model": deployed_model,
        "model_name": deployment.model_name if deployment else None,
        "status": deployment.status_name if deployment else gone,
        "removed_by": removed_by if deployment is None else None,
        "plan": str(getattr(deployment.plan, "value", deployment.plan))
        if deployment and deployment.plan
        else None,
        "capacity": deployment.capacity if deployment else None,
        "created": _iso(deployment.gmt_create) if deployment else None,
        "task_id": task.task_id if task else None,
        #: What the deploy task last saw (useful once a teardown has removed it).
        "task_status": task.result.get("status") if task else None,
        "console_url": console("deployment", deployed_model),
    }


def job_deployments(
    job: FineTuneJob,
    checkpoints: list[Checkpoint],
    deployments: dict[str, Deployment],
    deploy_tasks: list[TaskRecord],
    console: Console,
    removed_by: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The job's models' deployments: found remotely by model, or recorded by the run's
    deploy tasks (one gone since: REMOVED by the task in ``removed_by``, else NOT FOUND)."""
    models = {job.finetuned_output} | {c.model_name for c in checkpoints if c.model_name}
    models.discard(None)
    by_task = {t.remote_id: t for t in deploy_tasks if t.remote_id}
    wanted = [d for d, dep in deployments.items() if dep.model_name in models]
    wanted += [d for d in by_task if d not in wanted]
    removed = removed_by or {}
    return [
        deployment_row(d, deployments.get(d), by_task.get(d), console, removed.get(d))
        for d in wanted
    ]


def missing_deployments(
    deploy_tasks: list[TaskRecord], deployments: dict[str, Deployment]
) -> set[str]:
    """The run's deployed models the service no longer lists (whose remover to look up)."""
    return {t.remote_id for t in deploy_tasks if t.remote_id and t.remote_id not in deployments}


def estimate(result: dict[str, Any], rendered: dict[str, Any]) -> tuple[int | None, str | None]:
    """The billed tokens estimated before the job started, and why there is none: the task's
    result once it ended, else its rendered ``training_tokens`` x ``n_epochs``."""
    given = result.get("estimated_tokens")
    if isinstance(given, (int, float)) and not isinstance(given, bool):
        return int(given), None
    tokens = rendered.get("training_tokens")
    hyper = rendered.get("hyper_parameters")
    epochs = hyper.get("n_epochs") if isinstance(hyper, dict) else None
    if tokens in (None, "", []):
        return None, "not estimated: no training_tokens given to the task"
    if epochs is None:
        return None, "not estimated: no n_epochs in hyper_parameters (the service's default)"
    try:
        found = check_budget(tokens, epochs, None)
    except (ValueError, InvalidRequestError) as error:
        return None, f"not estimated: {error}"
    if found is None:
        return None, f"not estimated: training_tokens {tokens!r} x n_epochs {epochs!r}"
    return found.total, None


def cost(
    job: FineTuneJob,
    summary: TrainingSummary,
    result: dict[str, Any],
    rendered: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Billed tokens (the job's ``usage``) beside the estimate made before it started."""
    estimated, why = estimate(result, rendered or {})
    return {
        "billed_tokens": job.usage_tokens,
        "estimated_tokens": estimated,
        "estimate_note": why,
        "logged_tokens": summary.consumed_tokens,
    }


def training(summary: TrainingSummary, *, ended: bool) -> dict[str, Any]:
    """The curve and its figures; the last loss is "Latest" until the job ended."""
    data = summary.to_dict(points=True)
    data["loss_label"] = "Final loss" if ended else "Latest loss"
    data["axes"] = loss_axes(
        [data.get("points") or []],
        total_steps=summary.total_steps,
        total_epochs=summary.total_epochs,
    )
    return data


def job_view(
    record: TaskRecord,
    job: FineTuneJob,
    summary: TrainingSummary,
    checkpoints: list[Checkpoint],
    deployments: dict[str, Deployment],
    run_records: list[TaskRecord],
    console: Console,
    removed_by: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Everything the fine-tune tab shows for ``record``'s job (``console`` makes the
    region- and workspace-aware console link of a resource kind and id; ``removed_by`` the
    task that removed each deployment gone since)."""
    hyper = job.hyper_parameters.to_dict() if job.hyper_parameters else {}
    active = job.status_name in ACTIVE_JOB
    return {
        "task": task_info(record),
        "job": {
            "job_id": job.job_id,
            "job_name": job.job_name,
            "status": job.status_name,
            "model": job.model,
            "base_model": job.base_model,
            "training_type": str(getattr(job.training_type, "value", job.training_type) or ""),
            "finetuned_output": job.finetuned_output,
            "hyper_parameters": hyper,
            "code": job.code,
            "message": job.message,
            "console_url": console("fine_tune", job.job_id),
        },
        "timeline": timeline(job, summary),
        "training": training(summary, ended=not active),
        "checkpoints": checkpoint_rows(
            checkpoints, [r for r in run_records if r.kind == "export"], job
        ),
        "cost": cost(job, summary, record.result, record.rendered),
        "deployments": job_deployments(
            job,
            checkpoints,
            deployments,
            [r for r in run_records if r.kind == "deployment"],
            console,
            removed_by,
        ),
        "refresh_seconds": REFRESH_SECONDS if active else None,
    }
