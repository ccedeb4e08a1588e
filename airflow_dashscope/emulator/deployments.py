"""``/api/v1/deployments``: deploy, list, get, scale, update limits, delete.

A deployment runs one operation at a time; its status is derived from the operation and the
time since it started (``deploy_seconds`` for the whole operation):

* create: PENDING (first third) -> DEPLOYING -> RUNNING
* update (rpm/tpm limits): PENDING (first third) -> UPDATING -> RUNNING
* scale: UPDATING -> RUNNING (``ready_capacity`` follows the new capacity at the end)
* delete: DELETING -> gone (404 afterwards)
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_dashscope import catalog

from .clock import iso_time
from .errors import ApiError, bad_request, unsupported
from .jobs import find_parent_job
from .settings import Settings
from .state import USER_IDENTITY, DeploymentRecord, Store
from .web import emulator_of, json_body, output, paging, workspace_of

router = APIRouter()
PLANS = ("lora", "mu", "ptu")
CHARGE_TYPES = {"lora": "post_paid", "mu": "post_paid", "ptu": "pre_paid"}
MU_FIELDS = ("deploy_spec", "enable_thinking", "max_context_length", "rpm_limit", "tpm_limit")
_SUFFIX = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _phase(dep: DeploymentRecord, now: float, deploy_s: float) -> str:
    elapsed = now - dep.op_started
    if dep.op == "create":
        return "PENDING" if elapsed < deploy_s / 3 else "DEPLOYING"
    if dep.op == "update":
        return "PENDING" if elapsed < deploy_s / 3 else "UPDATING"
    if dep.op == "scale":
        return "UPDATING"
    return "DELETING"


def refresh_deployments(store: Store, settings: Settings, now: float) -> None:
    """Finish operations that are due; remove deployments whose deletion completed."""
    for key, dep in list(store.deployments.items()):
        if dep.op is None:
            continue
        done_at = dep.op_started + settings.deploy_seconds
        if now >= done_at:
            if dep.op == "delete":
                del store.deployments[key]
                continue
            dep.op, dep.status, dep.modified_at = None, "RUNNING", done_at
            dep.ready_capacity = dep.capacity
        else:
            dep.status = _phase(dep, now, settings.deploy_seconds)


def deployable_base(
    store: Store, settings: Settings, workspace: str, model: str, plan: str, now: float
) -> str | None:
    """Base model of ``model`` if it can be deployed with ``plan`` in ``workspace``."""
    parent = find_parent_job(store, workspace, model, now, settings.export_seconds)
    if parent is not None:
        return parent.base_model
    if plan == "mu" and (catalog.is_known_base_model(model) or model.startswith("qwen")):
        return model
    return None


def deployment_object(dep: DeploymentRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "deployed_model": dep.deployed_model,
        "gmt_create": iso_time(dep.created_at),
        "gmt_modified": iso_time(dep.modified_at),
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
    out.update(dep.extra)
    return out


def _capacity(body: dict[str, Any], settings: Settings, default: int | None) -> int:
    value = body.get("capacity", default)
    if value is None:
        raise bad_request("Missing capacity")
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (1 <= value <= settings.max_capacity)
    ):
        raise bad_request(
            f"Invalid capacity {value}: must be an integer between 1 and {settings.max_capacity}"
        )
    return value


def _limit(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_request(f"Invalid {key} {value}: must be a positive integer")
    return value


def _get(store: Store, workspace: str, deployed_model: str) -> DeploymentRecord:
    dep = store.deployments.get(deployed_model)
    if dep is None or dep.workspace_id != workspace:
        raise ApiError(404, "NotFound", f"Model: {deployed_model} not found!")
    return dep


def _require_running(dep: DeploymentRecord) -> None:
    if dep.status != "RUNNING":
        raise unsupported(
            f"The deployment {dep.deployed_model} is {dep.status}; wait until it is RUNNING."
        )


@router.post("/deployments")
async def create_deployment(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    workspace = workspace_of(request)
    model = body.get("model_name")
    if not isinstance(model, str) or not model:
        raise bad_request("Missing model_name")
    plan = body.get("plan") or "lora"
    if plan not in PLANS:
        raise bad_request(f"Invalid plan: {plan}, must be one of lora, mu, ptu")
    capacity = _capacity(body, emu.settings, 1)
    extra: dict[str, Any] = {}
    if plan == "mu":
        if not body.get("deploy_spec"):
            raise bad_request("Missing deploy_spec: it is required for plan mu")
        for key in ("rpm_limit", "tpm_limit", "max_context_length"):
            _limit(body, key)
        extra = {k: body[k] for k in MU_FIELDS if body.get(k) is not None}
    suffix = body.get("suffix")
    if suffix is not None and (not isinstance(suffix, str) or not _SUFFIX.match(suffix)):
        raise bad_request("Invalid suffix: use 1-64 letters, digits, '_' or '-'")
    name = body.get("name") or model
    with emu.session() as now:
        base = deployable_base(emu.store, emu.settings, workspace, model, plan, now)
        if base is None:
            raise ApiError(404, "NotFound", f"Model: {model} not found!")
        live = [
            d
            for d in emu.store.deployments.values()
            if d.workspace_id == workspace and d.op != "delete"
        ]
        if suffix:
            deployed_model = f"{model}-{suffix}"
            if deployed_model in emu.store.deployments:
                raise ApiError(
                    409,
                    "Conflict",
                    f"Model instance {deployed_model} already exists, please specify a suffix",
                )
        else:
            if any(d.model_name == model and d.name == name for d in live):
                raise ApiError(
                    409,
                    "Conflict",
                    f"Model instance {name} already exists, please specify a suffix",
                )
            deployed_model = f"{model}-{secrets.token_hex(4)}"
        dep = DeploymentRecord(
            deployed_model=deployed_model,
            workspace_id=workspace,
            model_name=model,
            base_model=base,
            name=str(name),
            plan=plan,
            capacity=capacity,
            ready_capacity=0,
            base_capacity=1,
            charge_type=CHARGE_TYPES[plan],
            created_at=now,
            modified_at=now,
            status="PENDING",
            op="create",
            op_started=now,
            extra=extra,
        )
        emu.store.deployments[deployed_model] = dep
        emu.persist()
        emu.counters.bump("deployments_created")
        return output(deployment_object(dep))


@router.get("/deployments")
async def list_deployments(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    workspace = workspace_of(request)
    page_no, page_size = paging(request, 200, 50)
    with emu.session():
        found = [d for d in emu.store.deployments.values() if d.workspace_id == workspace]
        found.sort(key=lambda d: d.created_at, reverse=True)
        page = found[(page_no - 1) * page_size : page_no * page_size]
        return output(
            {
                "page_no": page_no,
                "page_size": page_size,
                "total": len(found),
                "deployments": [deployment_object(d) for d in page],
            }
        )


@router.get("/deployments/{deployed_model}")
async def get_deployment(request: Request, deployed_model: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session():
        return output(deployment_object(_get(emu.store, workspace_of(request), deployed_model)))


@router.put("/deployments/{deployed_model}/scale")
async def scale_deployment(request: Request, deployed_model: str) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    capacity = _capacity(body, emu.settings, None)
    with emu.session() as now:
        dep = _get(emu.store, workspace_of(request), deployed_model)
        _require_running(dep)
        dep.ready_capacity = min(dep.ready_capacity, capacity)
        dep.capacity, dep.op, dep.op_started, dep.modified_at = capacity, "scale", now, now
        dep.status = "UPDATING"
        emu.persist()
        return output(deployment_object(dep))


@router.put("/deployments/{deployed_model}/update")
async def update_deployment(request: Request, deployed_model: str) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    limits = {k: _limit(body, k) for k in ("rpm_limit", "tpm_limit")}
    if all(v is None for v in limits.values()):
        raise bad_request("Missing rpm_limit or tpm_limit")
    with emu.session() as now:
        dep = _get(emu.store, workspace_of(request), deployed_model)
        _require_running(dep)
        dep.extra.update({k: v for k, v in limits.items() if v is not None})
        dep.op, dep.op_started, dep.modified_at, dep.status = "update", now, now, "PENDING"
        emu.persist()
        return output(deployment_object(dep))


@router.delete("/deployments/{deployed_model}")
async def delete_deployment(request: Request, deployed_model: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session() as now:
        dep = _get(emu.store, workspace_of(request), deployed_model)
        if dep.op != "delete":
            dep.op, dep.op_started, dep.modified_at, dep.status = "delete", now, now, "DELETING"
            dep.ready_capacity = 0
            emu.persist()
        return output(deployment_object(dep))
