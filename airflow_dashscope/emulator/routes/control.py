"""``/__emulator__/...``: the control API (clock, faults, job control, limits, counters,
reset).

Not part of the real service. It needs no API key, so a test or a browser can drive it with
plain requests; it only ever listens on the emulator's own (loopback) socket.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from ..errors import bad_request, not_found
from ..web import emulator_of, json_body

router = APIRouter(prefix="/__emulator__")


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", "now": emulator_of(request).clock.now()}


@router.get("/clock")
async def clock(request: Request) -> dict[str, Any]:
    emu = emulator_of(request)
    return {"now": emu.clock.now(), "offset": emu.clock.offset, "manual": emu.clock.manual}


@router.post("/clock/advance")
async def advance(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if "seconds" not in body:
        raise bad_request("Missing seconds")
    emu = emulator_of(request)
    now = emu.advance(body["seconds"])
    return {"now": now, "offset": emu.clock.offset}


@router.post("/faults")
async def add_fault(request: Request) -> dict[str, Any]:
    return emulator_of(request).inject_fault(**(await json_body(request)))


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"faults": emulator_of(request).faults.list()}


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    emulator_of(request).faults.clear()
    return {"faults": []}


@router.post("/jobs/{job_id}/fail")
async def fail_job(request: Request, job_id: str) -> dict[str, Any]:
    body = await json_body(request)
    return emulator_of(request).fail_job(
        job_id,
        str(body.get("code", "InternalError")),
        str(body.get("message", "Internal server error!")),
        str(body.get("when", "now")),
    )


@router.post("/jobs/{job_id}/extend")
async def extend_job(request: Request, job_id: str) -> dict[str, Any]:
    body = await json_body(request)
    try:
        seconds = float(body.get("seconds", 0))
    except (TypeError, ValueError):
        raise bad_request("seconds must be a number") from None
    return emulator_of(request).extend_job(job_id, seconds)


@router.post("/jobs/{job_id}/checkpoints/{checkpoint}/fail_export")
async def fail_export(request: Request, job_id: str, checkpoint: str) -> list[dict[str, Any]]:
    body = await json_body(request)
    return emulator_of(request).fail_export(
        job_id,
        checkpoint,
        str(body.get("code", "InternalError")),
        str(body.get("message", "Internal server error!")),
    )


@router.post("/deployments/{deployed_model}/status")
async def set_deployment_status(request: Request, deployed_model: str) -> dict[str, Any]:
    body = await json_body(request)
    return emulator_of(request).set_deployment_status(deployed_model, str(body.get("status")))


@router.get("/files/{file_id}")
async def file_content(request: Request, file_id: str) -> FileResponse:
    """The ``url`` of a file object: its uploaded bytes."""
    emu = emulator_of(request)
    with emu.store.lock:
        record = emu.store.files.get(file_id)
    if record is None:
        raise not_found()
    return FileResponse(emu.store.file_path(file_id), filename=record.name)


@router.get("/limits")
async def limits(request: Request) -> dict[str, int]:
    return emulator_of(request).settings.limits()


@router.post("/limits")
async def set_limits(request: Request) -> dict[str, int]:
    """Account limits: ``max_file_bytes``, ``max_files``, ``max_total_bytes``, ``max_jobs``."""
    return emulator_of(request).set_limits(**(await json_body(request)))


@router.get("/counters")
async def counters(request: Request) -> dict[str, Any]:
    return emulator_of(request).counters_snapshot()


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    emulator_of(request).reset()
    return {"status": "reset"}
