"""Which service statuses are finished, and how: one table per resource.

A status this code does not know yet is *pending* (the service adds statuses; waiting on is
safer than failing a paid job) and is logged each time it is seen.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # annotations only: DAG files parse without the pydantic models
    from airflow_dashscope.client.models import Checkpoint, Deployment, FineTuneJob

log = logging.getLogger(__name__)

#: Where a resource stands.
Outcome = Literal["success", "failed", "canceled", "pending"]

JOB_OUTCOMES: dict[str, Outcome] = {
    "PENDING": "pending",
    "QUEUING": "pending",
    "RUNNING": "pending",
    "CANCELING": "pending",
    "SUCCEEDED": "success",
    "FAILED": "failed",
    "CANCELED": "canceled",
}
CHECKPOINT_OUTCOMES: dict[str, Outcome] = {
    # PENDING also means "not exported yet": it stays so until someone exports it.
    "PENDING": "pending",
    "PROCESSING": "pending",
    "SUCCEEDED": "success",
    "FAILED": "failed",
}
DEPLOYMENT_OUTCOMES: dict[str, Outcome] = {
    # The documented statuses: PENDING, UPDATING, RUNNING, STOPPED, DELETING, FAILED.
    "PENDING": "pending",
    "UPDATING": "pending",
    "RUNNING": "success",
    # None of these comes back to RUNNING on its own, so waiting longer cannot help.
    "STOPPED": "failed",
    "FAILED": "failed",
    "DELETING": "failed",
}


def _outcome(table: Mapping[str, Outcome], kind: str, name: str, status: str) -> Outcome:
    outcome = table.get(status)
    if outcome is None:
        log.warning("Unknown status %r of DashScope %s %s: still waiting.", status, kind, name)
        return "pending"
    return outcome


def classify_job(job: FineTuneJob) -> Outcome:
    return _outcome(JOB_OUTCOMES, "fine-tune job", job.job_id, job.status_name)


def classify_checkpoint(checkpoint: Checkpoint) -> Outcome:
    return _outcome(
        CHECKPOINT_OUTCOMES, "checkpoint", checkpoint.checkpoint, checkpoint.status_name
    )


def classify_deployment(deployment: Deployment) -> Outcome:
    return _outcome(
        DEPLOYMENT_OUTCOMES, "deployment", deployment.deployed_model, deployment.status_name
    )


def checkpoint_matches(checkpoint: Checkpoint, name: str) -> bool:
    """Export accepts ``checkpoint-N`` or the ``checkpoint_id``: so does waiting on one."""
    return name in (checkpoint.checkpoint, checkpoint.checkpoint_id, checkpoint.full_name)


def job_failure_reason(job: FineTuneJob) -> str:
    """``code: message`` of a failed job, as the service reports it."""
    parts = [part for part in (job.code, job.message) if part]
    return ": ".join(parts) if parts else "no reason given by the service"
