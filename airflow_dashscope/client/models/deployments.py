"""Deployments: a fine-tuned (or base) model served for invocation."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from airflow_dashscope.client.models.base import DashScopeModel, ServiceTime


class DeploymentPlan(str, Enum):
    LORA = "lora"
    MU = "mu"
    PTU = "ptu"


class DeploymentStatus(str, Enum):
    PENDING = "PENDING"
    DEPLOYING = "DEPLOYING"
    UPDATING = "UPDATING"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    DELETING = "DELETING"
    FAILED = "FAILED"


#: Where a wait for "deployed" ends: RUNNING is success, the others are not coming back.
TERMINAL_DEPLOYMENT_STATUSES: frozenset[str] = frozenset({"RUNNING", "STOPPED", "FAILED"})


class Deployment(DashScopeModel):
    deployed_model: str
    status: DeploymentStatus | str
    model_name: str | None = None
    name: str | None = None
    base_model: str | None = None
    plan: DeploymentPlan | str | None = None
    capacity: int | None = None
    base_capacity: int | None = None
    ready_capacity: int | None = None
    workspace_id: str | None = None
    charge_type: str | None = None
    creator: str | None = None
    modifier: str | None = None
    gmt_create: ServiceTime | None = None
    gmt_modified: ServiceTime | None = None
    deploy_spec: str | None = None
    enable_thinking: bool | None = None
    max_context_length: int | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None

    @property
    def status_name(self) -> str:
        status = self.status
        return status.value if isinstance(status, DeploymentStatus) else str(status)


class DeploymentPage(DashScopeModel):
    total: int = 0
    page_no: int = 1
    page_size: int = 50
    deployments: list[Deployment] = Field(default_factory=list)
