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

from airflow_dashscope.client.models import SERVICE_TIMEZONE, Checkpoint, Deployment, FineTuneJob
from airflow_dashscope.plugins.records import TaskRecord
from airflow_dashscope.waiting.training_log import TrainingSummary

#: Makes the console link of a resource: ``console(kind, resource_id) -> url``.
Console = Callable[[str, str], str]

#: Seconds between two refreshes of a page that shows something still moving.
REFRESH_SECONDS = 3
ACTIVE_JOB = frozenset({"PENDING", "QUEUING", "RUNNING", "CANCELING"})
ACTIVE_DEPLOYMENT = frozenset({"PENDING", "DEPLOYING", "UPDATING", "DELETING"})


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


def checkpoint_rows(
    checkpoints: list[Checkpoint], exports: list[TaskRecord], job: FineTuneJob
) -> list[dict[str, Any]]:
    """Newest first; ``exported_by`` names the DAG's export task that published it."""
    exported: dict[str, str] = {}
    for export in exports:
        result = export.result
        if result.get("job_id") in (None, job.job_id) and export.remote_id:
            exported[export.remote_id] = export.task_id
    rows = []
    for ckpt in sorted(checkpoints, key=lambda c: c.step_number, reverse=True):
        rows.append(
            {
                "checkpoint": ckpt.checkpoint,
                "step": ckpt.step_number if ckpt.step_number >= 0 else None,
                "status": ckpt.status_name or None,
                "model_name": ckpt.model_name,
                "created": _iso(ckpt.create_time),
                "exported_by": exported.get(ckpt.checkpoint)
                or exported.get(ckpt.checkpoint_id or ""),
                "final": ckpt.model_name is not None and ckpt.model_name == job.finetuned_output,
            }
        )
    return rows


def deployment_row(
    deployed_model: str,
    deployment: Deployment | None,
    task: TaskRecord | None,
    console: Console,
) -> dict[str, Any]:
    return {
        "deployed_model": deployed_model,
        "model_name": deployment.model_name if deployment else None,
        "status": deployment.status_name if deployment else "NOT FOUND",
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
) -> list[dict[str, Any]]:
    """The job's models' deployments: found remotely by model, or recorded by the run's
    deploy tasks (a deployment removed since shows as NOT FOUND)."""
    models = {job.finetuned_output} | {c.model_name for c in checkpoints if c.model_name}
    models.discard(None)
    by_task = {t.remote_id: t for t in deploy_tasks if t.remote_id}
    wanted = [d for d, dep in deployments.items() if dep.model_name in models]
    wanted += [d for d in by_task if d not in wanted]
    return [deployment_row(d, deployments.get(d), by_task.get(d), console) for d in wanted]


def cost(job: FineTuneJob, summary: TrainingSummary, result: dict[str, Any]) -> dict[str, Any]:
    """Billed tokens (the job's ``usage``) beside the estimate made before it started."""
    estimate = result.get("estimated_tokens")
    return {
        "billed_tokens": job.usage_tokens,
        "estimated_tokens": estimate if isinstance(estimate, (int, float)) else None,
        "logged_tokens": summary.consumed_tokens,
    }


def job_view(
    record: TaskRecord,
    job: FineTuneJob,
    summary: TrainingSummary,
    checkpoints: list[Checkpoint],
    deployments: dict[str, Deployment],
    run_records: list[TaskRecord],
    console: Console,
) -> dict[str, Any]:
    """Everything the fine-tune tab shows for ``record``'s job (``console`` makes the
    region- and workspace-aware console link of a resource kind and id)."""
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
        "training": summary.to_dict(points=True),
        "checkpoints": checkpoint_rows(
            checkpoints, [r for r in run_records if r.kind == "export"], job
        ),
        "cost": cost(job, summary, record.result),
        "deployments": job_deployments(
            job,
            checkpoints,
            deployments,
            [r for r in run_records if r.kind == "deployment"],
            console,
        ),
        "refresh_seconds": REFRESH_SECONDS if active else None,
    }
