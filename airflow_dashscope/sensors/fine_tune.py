"""Sensor: a fine-tune job has finished (SUCCEEDED)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.sensors.base import DashScopeBaseSensor

if TYPE_CHECKING:  # loads when a task runs, not at DAG parse
    from airflow_dashscope.triggers.fine_tune import DashScopeFineTuneJobTrigger


class DashScopeFineTuneJobSensor(DashScopeBaseSensor):
    """Waits for fine-tune job ``job_id`` to succeed; fails on FAILED (quoting the job's code,
    message and last log lines) or CANCELED. Returns the job object as a dict.

    The sensor never cancels the job: it watches a job someone else started.
    """

    template_fields: Sequence[str] = ("job_id", *DashScopeBaseSensor.template_fields)

    def __init__(self, *, job_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id

    def make_trigger(self, end_time: float | None) -> DashScopeFineTuneJobTrigger:
        from airflow_dashscope.triggers.fine_tune import DashScopeFineTuneJobTrigger

        return DashScopeFineTuneJobTrigger(
            self.job_id, cancel_on_kill=False, **self.common_trigger_kwargs(end_time)
        )
