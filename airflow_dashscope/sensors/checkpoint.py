"""Sensor: a checkpoint has been exported (published) and can be deployed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.sensors.base import DashScopeBaseSensor

if TYPE_CHECKING:  # loads when a task runs, not at DAG parse
    from airflow_dashscope.triggers.checkpoint import DashScopeCheckpointTrigger


class DashScopeCheckpointSensor(DashScopeBaseSensor):
    """Waits for ``checkpoint`` (``checkpoint-N`` or its id) of job ``job_id`` to be SUCCEEDED;
    fails on FAILED or when the finished job has no such checkpoint. Returns the checkpoint."""

    template_fields: Sequence[str] = ("job_id", "checkpoint", *DashScopeBaseSensor.template_fields)

    def __init__(self, *, job_id: str, checkpoint: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.checkpoint = checkpoint

    def make_trigger(self, end_time: float | None) -> DashScopeCheckpointTrigger:
        from airflow_dashscope.triggers.checkpoint import DashScopeCheckpointTrigger

        return DashScopeCheckpointTrigger(
            self.job_id, self.checkpoint, **self.common_trigger_kwargs(end_time)
        )
