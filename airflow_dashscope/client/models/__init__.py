"""Typed results of the DashScope API (pydantic v2, tolerant of unknown fields and statuses)."""

from airflow_dashscope.client.models.base import SERVICE_TIMEZONE, DashScopeModel, ServiceTime
from airflow_dashscope.client.models.deployments import (
    TERMINAL_DEPLOYMENT_STATUSES,
    Deployment,
    DeploymentPage,
    DeploymentPlan,
    DeploymentStatus,
)
from airflow_dashscope.client.models.files import (
    DashScopeFile,
    FailedUpload,
    FilePage,
    UploadedFile,
    UploadResult,
)
from airflow_dashscope.client.models.fine_tunes import (
    TERMINAL_CHECKPOINT_STATUSES,
    TERMINAL_JOB_STATUSES,
    Checkpoint,
    CheckpointStatus,
    FineTuneJob,
    FineTuneJobPage,
    HyperParameters,
    JobLogs,
    JobStatus,
    OperationStatus,
    TrainingType,
)
from airflow_dashscope.client.models.generation import (
    ChatCompletion,
    GenerationResult,
    GenerationUsage,
    Message,
)

__all__ = [
    "SERVICE_TIMEZONE",
    "TERMINAL_CHECKPOINT_STATUSES",
    "TERMINAL_DEPLOYMENT_STATUSES",
    "TERMINAL_JOB_STATUSES",
    "ChatCompletion",
    "Checkpoint",
    "CheckpointStatus",
    "DashScopeFile",
    "DashScopeModel",
    "Deployment",
    "DeploymentPage",
    "DeploymentPlan",
    "DeploymentStatus",
    "FailedUpload",
    "FilePage",
    "FineTuneJob",
    "FineTuneJobPage",
    "GenerationResult",
    "GenerationUsage",
    "HyperParameters",
    "JobLogs",
    "JobStatus",
    "Message",
    "OperationStatus",
    "ServiceTime",
    "TrainingType",
    "UploadResult",
    "UploadedFile",
]
