"""Sensors for fine-tune jobs, checkpoint exports and deployments (poke, reschedule, deferrable)."""

from typing import TYPE_CHECKING

from airflow_dashscope import lazy_exports

if TYPE_CHECKING:
    from airflow_dashscope.sensors.base import DashScopeWaitError
    from airflow_dashscope.sensors.checkpoint import DashScopeCheckpointSensor
    from airflow_dashscope.sensors.deployment import DashScopeDeploymentSensor
    from airflow_dashscope.sensors.fine_tune import DashScopeFineTuneJobSensor

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DashScopeCheckpointSensor": "airflow_dashscope.sensors.checkpoint",
        "DashScopeDeploymentSensor": "airflow_dashscope.sensors.deployment",
        "DashScopeFineTuneJobSensor": "airflow_dashscope.sensors.fine_tune",
        "DashScopeWaitError": "airflow_dashscope.sensors.base",
    },
)

__all__ = [
    "DashScopeCheckpointSensor",
    "DashScopeDeploymentSensor",
    "DashScopeFineTuneJobSensor",
    "DashScopeWaitError",
]
