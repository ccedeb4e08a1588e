"""Sensor: a deployment is RUNNING (invocable)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.sensors.base import DashScopeBaseSensor

if TYPE_CHECKING:  # loads when a task runs, not at DAG parse
    from airflow_dashscope.triggers.deployment import DashScopeDeploymentTrigger


class DashScopeDeploymentSensor(DashScopeBaseSensor):
    """Waits for ``deployed_model`` to be RUNNING; fails on FAILED, STOPPED or DELETING.
    Returns the deployment object as a dict."""

    template_fields: Sequence[str] = ("deployed_model", *DashScopeBaseSensor.template_fields)

    def __init__(self, *, deployed_model: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deployed_model = deployed_model

    def make_trigger(self, end_time: float | None) -> DashScopeDeploymentTrigger:
        from airflow_dashscope.triggers.deployment import DashScopeDeploymentTrigger

        return DashScopeDeploymentTrigger(
            self.deployed_model, **self.common_trigger_kwargs(end_time)
        )
