"""Waiting for a checkpoint export (publication) to finish."""

from __future__ import annotations

from typing import Any

from airflow_dashscope.client import AsyncDashScopeClient
from airflow_dashscope.triggers.base import DEFAULT_CONN_ID, DashScopeBaseTrigger, Observation
from airflow_dashscope.waiting import checkpoint_matches, classify_checkpoint


class DashScopeCheckpointTrigger(DashScopeBaseTrigger):
    """Waits until ``checkpoint`` (``checkpoint-N`` or its ``checkpoint_id``) of job ``job_id``
    is SUCCEEDED (exported, deployable) or FAILED.

    A checkpoint missing from the list is awaited while the job may still save it; once the
    job is finished without it the wait fails (a typo would otherwise wait until the deadline).
    """

    resource = "checkpoint"
    noun = "checkpoint"

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

    @property
    def resource_id(self) -> str:
        return f"{self.job_id}/{self.checkpoint}"

    def resource_kwargs(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "checkpoint": self.checkpoint}

    async def poll(self, client: AsyncDashScopeClient) -> Observation:
        checkpoints = await client.list_checkpoints(self.job_id)
        for item in checkpoints:
            if checkpoint_matches(item, self.checkpoint):
                return Observation(item.status_name, classify_checkpoint(item), item.to_dict())
        job = await client.get_fine_tune(self.job_id)
        if not job.is_terminal:
            return Observation("ABSENT", "pending", None)
        names = ", ".join(c.checkpoint for c in checkpoints) or "none"
        return Observation(
            "ABSENT",
            "failed",
            None,
            f"job {self.job_id} is {job.status_name} and has no such checkpoint "
            f"(checkpoints: {names})",
        )
