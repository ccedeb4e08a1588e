"""Deferrable triggers: wait for fine-tune jobs, checkpoint exports and deployments."""

from airflow_dashscope.triggers.checkpoint import DashScopeCheckpointTrigger
from airflow_dashscope.triggers.deployment import DashScopeDeploymentTrigger
from airflow_dashscope.triggers.fine_tune import DashScopeFineTuneJobTrigger

__all__ = [
    "DashScopeCheckpointTrigger",
    "DashScopeDeploymentTrigger",
    "DashScopeFineTuneJobTrigger",
]
