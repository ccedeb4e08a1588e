"""``/api/v1/deployments``: deployable models, deploy, list, get, scale, update, delete.
The state machine and the create steps are in ``emulator/deployments.py``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .. import deployments as machine
from ..errors import bad_request
from ..web import emulator_of, json_body, output, paging, scope_of

router = APIRouter()


@router.get("/deployments/models")
async def deployable_models(request: Request) -> JSONResponse:
    """model-deployment-api.md, 获取可以部署的模型列表 (page_size default 50, at most 200)."""
    emu = emulator_of(request)
    page_no, page_size = paging(request, 200, 50)
    with emu.session() as now:
        models = machine.deployable_models(emu.store, emu.settings, scope_of(request), now)
    return output(
        {
            "models": models[(page_no - 1) * page_size : page_no * page_size],
            "page_no": page_no,
            "page_size": page_size,
            "total": len(models),
        }
    )


@router.post("/deployments")
async def create_deployment(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    with emu.session() as now:
        dep = machine.create_deployment(emu.store, emu.settings, now, scope_of(request), body)
        emu.counters.bump("deployments_created")
        return output(machine.deployment_object(dep, create_answer=True))


@router.get("/deployments")
async def list_deployments(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    scope = scope_of(request)
    page_no, page_size = paging(request, 200, 50)
    with emu.session():
        found = [d for d in emu.store.deployments if (d.region, d.workspace_id) == scope]
        found.sort(key=lambda d: d.created_at, reverse=True)
        page = found[(page_no - 1) * page_size : page_no * page_size]
        return output(
            {
                "page_no": page_no,
                "page_size": page_size,
                "total": len(found),
                "deployments": [machine.deployment_object(d) for d in page],
            }
        )


@router.get("/deployments/{deployed_model}")
async def get_deployment(request: Request, deployed_model: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session():
        dep = machine.get_deployment(emu.store, scope_of(request), deployed_model)
        return output(machine.deployment_object(dep))


@router.put("/deployments/{deployed_model}/scale")
async def scale_deployment(request: Request, deployed_model: str) -> JSONResponse:
    emu = emulator_of(request)
    capacity = machine.capacity_of(await json_body(request), None)
    with emu.session() as now:
        dep = machine.get_deployment(emu.store, scope_of(request), deployed_model)
        machine.require_running(dep)
        dep.ready_capacity = min(dep.ready_capacity, capacity)
        dep.capacity = capacity
        machine.start(dep, "scale", now)
        return output(machine.deployment_object(dep))


@router.put("/deployments/{deployed_model}/update")
async def update_deployment(request: Request, deployed_model: str) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    limits = {k: machine.limit_of(body, k) for k in ("rpm_limit", "tpm_limit")}
    if all(v is None for v in limits.values()):
        raise bad_request("Missing rpm_limit or tpm_limit")
    with emu.session() as now:
        dep = machine.get_deployment(emu.store, scope_of(request), deployed_model)
        machine.require_running(dep)
        dep.extra = {**dep.extra, **{k: v for k, v in limits.items() if v is not None}}
        machine.start(dep, "update", now)
        return output(machine.deployment_object(dep))


@router.delete("/deployments/{deployed_model}")
async def delete_deployment(request: Request, deployed_model: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session() as now:
        dep = machine.get_deployment(emu.store, scope_of(request), deployed_model)
        if dep.op != "delete":
            machine.start(dep, "delete", now)
        return output(machine.deployment_object(dep))
