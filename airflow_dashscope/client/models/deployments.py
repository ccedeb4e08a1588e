"""Deployments: a fine-tuned (or base) model served for invocation."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import Field

from airflow_dashscope.client.models.base import DashScopeModel, LenientText, ServiceTime


class DeploymentPlan(str, Enum):
    LORA = "lora"
    MU = "mu"
    PTU = "ptu"
    #: Compute units: image and video generation models only.
    CU = "cu"


class DeploymentStatus(str, Enum):
    """The statuses of the deployment page; any other is kept as the raw string."""

    PENDING = "PENDING"
    UPDATING = "UPDATING"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    DELETING = "DELETING"
    FAILED = "FAILED"


#: Where a wait for "deployed" ends: RUNNING is success, the others are not coming back.
TERMINAL_DEPLOYMENT_STATUSES: frozenset[str] = frozenset({"RUNNING", "STOPPED", "FAILED"})
#: Statuses of a deployment that will not serve again on its own (STOPPED is not billed,
#: FAILED failed to create or update, DELETING is on its way out).
UNSERVICEABLE_DEPLOYMENT_STATUSES: frozenset[str] = frozenset({"STOPPED", "FAILED", "DELETING"})
#: Statuses on the way to RUNNING.
TRANSITIONAL_DEPLOYMENT_STATUSES: frozenset[str] = frozenset({"PENDING", "UPDATING"})


class Deployment(DashScopeModel):
    """The deployment object. A LoRA create answer has no capacity fields; ``mu`` objects
    carry ``model_unit_spec``; times may carry fractional seconds."""

    deployed_model: str
    status: DeploymentStatus | str
    model_name: str | None = None
    name: str | None = None
    display_name: str | None = None
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
    model_unit_spec: str | None = None
    ptu_capacity: dict[str, Any] | None = None
    enable_thinking: bool | None = None
    max_context_length: int | None = None
    #: Typed String in one table and Number in the next.
    rpm_limit: int | LenientText | None = None
    tpm_limit: int | LenientText | None = None

    @property
    def status_name(self) -> str:
        status = self.status
        return status.value if isinstance(status, DeploymentStatus) else str(status)

    @property
    def plan_name(self) -> str | None:
        plan = self.plan
        return plan.value if isinstance(plan, DeploymentPlan) else plan

    @property
    def unit_spec(self) -> str | None:
        """The model unit spec of an ``mu`` deployment (asked as ``deploy_spec``, answered as
        ``model_unit_spec``)."""
        return self.model_unit_spec or self.deploy_spec


class DeploymentPage(DashScopeModel):
    total: int = 0
    page_no: int = 1
    page_size: int = 50
    deployments: list[Deployment] = Field(default_factory=list)


class DeployableModel(DashScopeModel):
    """An item of ``GET /deployments/models``: a model this account may deploy."""

    model_name: str
    #: The smallest capacity a deployment needs (typed String on the page, a number in its
    #: sample); ``capacity`` must be a multiple of it.
    base_capacity: int | LenientText | None = None


class DeployableModelPage(DashScopeModel):
    total: int = 0
    page_no: int = 1
    page_size: int = 50
    models: list[DeployableModel] = Field(default_factory=list)
