"""Waiting for a deployment to be invocable."""

from __future__ import annotations

from typing import Any

from airflow_dashscope.triggers.base import DEFAULT_CONN_ID, DashScopeBaseTrigger
from airflow_dashscope.waiting.watches import DeploymentWatch


class DashScopeDeploymentTrigger(DashScopeBaseTrigger):
    """Waits until ``deployed_model`` is RUNNING (success) or FAILED/STOPPED/DELETING (failed).

    ``on_kill`` leaves the deployment alone: undeploying is a decision, not a clean-up.
    """

    def __init__(
        self,
        deployed_model: str,
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
        self.deployed_model = deployed_model

    def resource_kwargs(self) -> dict[str, Any]:
        return {"deployed_model": self.deployed_model}

    def make_watch(self, log: Any) -> DeploymentWatch:
        return DeploymentWatch(self.deployed_model, log)
