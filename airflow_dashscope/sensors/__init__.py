"""Sensors for fine-tune jobs, checkpoint exports and deployments (poke, reschedule, deferrable)."""

from airflow_dashscope.sensors.base import DashScopeWaitError
from airflow_dashscope.sensors.checkpoint import DashScopeCheckpointSensor
from airflow_dashscope.sensors.deployment import DashScopeDeploymentSensor
from airflow_dashscope.sensors.fine_tune import DashScopeFineTuneJobSensor

__all__ = [
    "DashScopeCheckpointSensor",
    "DashScopeDeploymentSensor",
    "DashScopeFineTuneJobSensor",
    "DashScopeWaitError",
]
