"""Deferrable triggers: wait for fine-tune jobs, checkpoint exports and deployments."""

from typing import TYPE_CHECKING

from airflow_dashscope import lazy_exports

if TYPE_CHECKING:
    from airflow_dashscope.triggers.checkpoint import DashScopeCheckpointTrigger
    from airflow_dashscope.triggers.deployment import DashScopeDeploymentTrigger
    from airflow_dashscope.triggers.fine_tune import DashScopeFineTuneJobTrigger

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DashScopeCheckpointTrigger": "airflow_dashscope.triggers.checkpoint",
        "DashScopeDeploymentTrigger": "airflow_dashscope.triggers.deployment",
        "DashScopeFineTuneJobTrigger": "airflow_dashscope.triggers.fine_tune",
    },
)

__all__ = [
    "DashScopeCheckpointTrigger",
    "DashScopeDeploymentTrigger",
    "DashScopeFineTuneJobTrigger",
]
