"""The deployment state machine and ``POST /deployments`` as named steps (no HTTP here).

Statuses are those of model-deployment-api.md: PENDING, UPDATING, RUNNING, STOPPED, DELETING,
FAILED. A deployment runs one operation at a time; its status follows from the operation and
the time since it started (``deploy_seconds`` for the whole operation):

* create: PENDING -> RUNNING
* update (rpm/tpm limits): PENDING (first third) -> UPDATING -> RUNNING (the update sample
  answers PENDING)
* scale: UPDATING -> RUNNING (``ready_capacity`` follows the new capacity at the end)
* delete: DELETING -> gone (404 afterwards); ``ready_capacity`` is kept while DELETING, as the
  delete sample shows
* STOPPED and FAILED come only from the control API (``set_deployment_status``).
"""

# ruff: noqa: RUF002  (quotes the vendor's Chinese pages)

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from . import catalog
from .checkpoints import published_job, published_models
from .clock import gmt_time
from .errors import ApiError, bad_request, unsupported
from .settings import Settings
from .state import USER_IDENTITY, DeploymentRecord, Store

PLANS = ("lora", "mu", "ptu")
CHARGE_TYPES = {"lora": "post_paid", "mu": "post_paid", "ptu": "pre_paid"}
#: Request fields of a mu deployment, and the response field each one is shown as.
MU_FIELDS = {
    "deploy_spec": "model_unit_spec",
    "enable_thinking": "enable_thinking",
    "max_context_length": "max_context_length",
    "rpm_limit": "rpm_limit",
    "tpm_limit": "tpm_limit",
}
BUSY = ("PENDING", "UPDATING", "DELETING")
_FIRST_STATUS = {
    "create": "PENDING",
    "update": "PENDING",
    "scale": "UPDATING",
    "delete": "DELETING",
}
FORCED_STATUSES = ("STOPPED", "FAILED")
#: "suffix ... 最大长度为8个字符且需全局唯一".
_SUFFIX = re.compile(r"^[A-Za-z0-9_-]{1,8}$")


def conflict(deployed_model: str) -> ApiError:
    """model-deployment-api.md, 异常响应: the Conflict message."""
    return ApiError(
        409, "Conflict", f"Deployed model {deployed_model} already exists, please specify a suffix."
    )


def model_not_found(model: str) -> ApiError:
    return ApiError(404, "NotFound", f"Model: {model} not found!")


# ---------------------------------------------------------------------------------- machine
def _phase(dep: DeploymentRecord, now: float, deploy_s: float) -> str:
    if dep.op == "update":
        return "PENDING" if now - dep.op_started < deploy_s / 3 else "UPDATING"
    return {"create": "PENDING", "scale": "UPDATING", "delete": "DELETING"}.get(str(dep.op), "")


def refresh_deployments(store: Store, settings: Settings, now: float) -> None:
    """Finish operations that are due; remove deployments whose deletion completed."""
    for dep in store.deployments.with_status(*BUSY):
        done_at = dep.op_started + settings.deploy_seconds
        if now < done_at:
            phase = _phase(dep, now, settings.deploy_seconds)
            if phase != dep.status:
                dep.status = phase
            continue
        if dep.op == "delete":
            store.deployments.remove(dep.deployed_model)
            continue
        dep.op, dep.status, dep.modified_at = None, "RUNNING", done_at
        dep.ready_capacity = dep.capacity


def set_status(dep: DeploymentRecord, status: str, now: float) -> None:
    """Control API: the deployment stops (not billed, not callable) or fails."""
    if status not in FORCED_STATUSES:
        raise bad_request(f"status must be one of {', '.join(FORCED_STATUSES)}")
    if dep.status == "DELETING":
        raise unsupported(f"The deployment {dep.deployed_model} is being deleted.")
    dep.op, dep.status, dep.modified_at, dep.ready_capacity = None, status, now, 0


def require_running(dep: DeploymentRecord) -> None:
    if dep.status != "RUNNING":
        raise unsupported(
            f"The deployment {dep.deployed_model} is {dep.status}; wait until it is RUNNING."
        )


def get_deployment(store: Store, scope: tuple[str, str], deployed_model: str) -> DeploymentRecord:
    dep = store.deployments.get(deployed_model)
    if dep is None or (dep.region, dep.workspace_id) != scope:
        raise model_not_found(deployed_model)
    return dep


def start(dep: DeploymentRecord, op: str, now: float) -> None:
    dep.op, dep.op_started, dep.modified_at = op, now, now
    dep.status = _FIRST_STATUS[op]


def capacity_of(body: dict[str, Any], default: int | None) -> int:
    value = body.get("capacity", default)
    if value is None:
        raise bad_request("Missing capacity")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1000:
        raise bad_request(
            f"Invalid capacity ({value}), capacity must be larger than or equal to 0 and "
            "multiples of 1 and less than 1000!"
        )
    return value


def limit_of(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_request(f"Invalid {key} {value}: must be a positive integer")
    return value


# ---------------------------------------------------------------------------------- create
@dataclass
class DeployRequest:
    model: str
    plan: str
    capacity: int
    suffix: str | None
    name: str
    unit_fields: dict[str, Any]


def read_request(body: dict[str, Any]) -> DeployRequest:
    model = body.get("model_name")
    if not isinstance(model, str) or not model:
        raise bad_request("Missing model_name")
    plan = body.get("plan") or "lora"
    if plan not in PLANS:
        raise bad_request(f"Invalid plan: {plan}, must be one of lora, mu, ptu")
    capacity = capacity_of(body, 1)
    unit_fields: dict[str, Any] = {}
    if plan == "mu":
        if not body.get("deploy_spec"):
            raise bad_request("Missing deploy_spec: it is required for plan mu")
        for key in ("rpm_limit", "tpm_limit", "max_context_length"):
            limit_of(body, key)
        unit_fields = {out: body[key] for key, out in MU_FIELDS.items() if key in body}
    suffix = body.get("suffix")
    if suffix is not None and (not isinstance(suffix, str) or not _SUFFIX.match(suffix)):
        raise bad_request("Invalid suffix: at most 8 characters, letters, digits, '_' or '-' only")
    name = body.get("name") or body.get("display_name") or model
    return DeployRequest(model, plan, capacity, suffix or None, str(name), unit_fields)


def deployable_base(
    store: Store, settings: Settings, scope: tuple[str, str], request: DeployRequest, now: float
) -> str:
    """Base model of the model to deploy: a published fine-tuned model, or a mu base model."""
    job = published_job(store, settings, scope, request.model, now)
    if job is not None:
        return job.base_model
    if request.plan == "mu" and request.model in catalog.MU_MODELS:
        return request.model
    raise model_not_found(request.model)


def choose_id(store: Store, scope: tuple[str, str], request: DeployRequest) -> str:
    """ "每个模型在首次部署时，可以不指定后缀。如果需要对同一模型进行多次部署，则必须设置后缀"."""
    if request.suffix:
        deployed_model = f"{request.model}-{request.suffix}"
        if deployed_model in store.deployments:
            raise conflict(deployed_model)
        return deployed_model
    for dep in store.deployments:
        if dep.model_name == request.model and (dep.region, dep.workspace_id) == scope:
            raise conflict(dep.deployed_model)
    if request.plan == "mu":
        # the update sample: "qwen-plus-2025-12-01-b6d61c71"
        return f"{request.model}-{secrets.token_hex(4)}"
    # the quick start: the first deployment is named after the model
    if request.model in store.deployments:
        raise conflict(request.model)
    return request.model


def create_deployment(
    store: Store, settings: Settings, now: float, scope: tuple[str, str], body: dict[str, Any]
) -> DeploymentRecord:
    request = read_request(body)
    base_model = deployable_base(store, settings, scope, request, now)
    deployed_model = choose_id(store, scope, request)
    dep = DeploymentRecord(
        deployed_model=deployed_model,
        region=scope[0],
        workspace_id=scope[1],
        model_name=request.model,
        base_model=base_model,
        name=request.name,
        plan=request.plan,
        capacity=request.capacity,
        ready_capacity=0,
        base_capacity=1,
        charge_type=CHARGE_TYPES[request.plan],
        created_at=now,
        modified_at=now,
        status="PENDING",
        op="create",
        op_started=now,
        extra=request.unit_fields,
    )
    return store.deployments.add(dep)


# ---------------------------------------------------------------------------------- views
def deployment_object(dep: DeploymentRecord, *, create_answer: bool = False) -> dict[str, Any]:
    """The deployment object; a LoRA create answer has no capacity fields (quick start)."""
    out: dict[str, Any] = {
        "deployed_model": dep.deployed_model,
        "gmt_create": gmt_time(dep.created_at),
        "gmt_modified": gmt_time(dep.modified_at),
        "status": dep.status,
        "model_name": dep.model_name,
        "name": dep.name,
        "base_model": dep.base_model,
        "base_capacity": dep.base_capacity,
        "capacity": dep.capacity,
        "ready_capacity": dep.ready_capacity,
        "workspace_id": dep.workspace_id,
        "charge_type": dep.charge_type,
        "creator": USER_IDENTITY,
        "modifier": USER_IDENTITY,
        "plan": dep.plan,
    }
    if create_answer and dep.plan == "lora":
        for key in ("base_capacity", "capacity", "ready_capacity"):
            del out[key]
    out.update(dep.extra)
    return out


def deployable_models(
    store: Store, settings: Settings, scope: tuple[str, str], now: float
) -> list[dict[str, Any]]:
    """``GET /deployments/models``: fine-tuned models first (newest first), then mu models."""
    tuned = [
        {"model_name": m, "base_capacity": 1}
        for m, _ in published_models(store, settings, scope, now)
    ]
    return tuned + [{"model_name": m, "base_capacity": 1} for m in sorted(catalog.MU_MODELS)]
