"""Waiting for a checkpoint export (publication) to finish."""

from __future__ import annotations

from typing import Any

from airflow_dashscope.triggers.base import DEFAULT_CONN_ID, DashScopeBaseTrigger
from airflow_dashscope.waiting.watches import CheckpointWatch


class DashScopeCheckpointTrigger(DashScopeBaseTrigger):
    """Waits until ``checkpoint`` (``checkpoint-N`` or its ``checkpoint_id``) of job ``job_id``
    is SUCCEEDED (exported, deployable) or FAILED.

    A checkpoint missing from the list is awaited while the job may still save it; once the
    job is finished without it the wait fails (a typo would otherwise wait until the deadline).
    """

    def __init__(
        self,
        job_id: str,
        checkpoint: str,
        *,
        dashscope_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 30.0,
        end_time: float | None = None,
        max_consecutive_errors: int = 5,
    ) -> None:
        super().__init__(
            dashscope_conn_id=dashscope_conn_id,
            poll_interval=poll_interval,
            end_time=end_time,
            max_consecutive_errors=max_consecutive_errors,
        )
        self.job_id = job_id
        self.checkpoint = checkpoint

    def resource_kwargs(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "checkpoint": self.checkpoint}

    def make_watch(self, log: Any) -> CheckpointWatch:
        return CheckpointWatch(self.job_id, self.checkpoint, log)
