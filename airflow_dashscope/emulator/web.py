"""Helpers shared by the routers: auth, the caller's scope, body parsing, paging, envelopes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse

from .catalog import BEIJING
from .errors import ApiError, bad_request, new_request_id

if TYPE_CHECKING:
    from .core import Emulator


def emulator_of(request: Request) -> Emulator:
    emu: Emulator = request.app.state.emulator
    return emu


def authenticate(request: Request) -> None:
    """Bearer key check: any non-empty key, or exactly the configured one."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    expected = emulator_of(request).settings.api_key
    if scheme.lower() != "bearer" or not key or (expected is not None and key != expected):
        raise ApiError(401, "InvalidApiKey", "Invalid API-key provided.")
    scope_of(request)


def api_key_of(request: Request) -> str:
    return request.headers.get("authorization", "").partition(" ")[2].strip()


def region_of(request: Request) -> str:
    """Set by the wire middleware from the host or the ``/intl`` path prefix."""
    return str(request.scope.get("dashscope_region", BEIJING))


def scope_of(request: Request) -> tuple[str, str]:
    """(region, workspace) of the call. error-code.md: an unknown workspace is
    "404-WorkSpaceNotFound / WorkSpace can not be found."; no header means the default one."""
    settings = emulator_of(request).settings
    workspace = request.headers.get("x-dashscope-workspace", "").strip()
    workspace = workspace or settings.default_workspace
    if not settings.knows_workspace(workspace):
        raise ApiError(404, "WorkSpaceNotFound")
    return region_of(request), workspace


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_request("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object")
    return body


def int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise bad_request(f"{name} must be {bound}")
    return value


def paging(request: Request, max_size: int, default_size: int) -> tuple[int, int]:
    page_no = int_param(request, "page_no", 1, 1, None)
    page_size = int_param(request, "page_size", default_size, 1, max_size)
    return page_no, page_size


def output(payload: Any, **extra: Any) -> JSONResponse:
    """Success envelope for everything except /files: ``{"request_id", "output"}``."""
    return JSONResponse({"request_id": new_request_id(), "output": payload, **extra})


def data(payload: Any) -> JSONResponse:
    """Success envelope of the /files endpoints: ``{"request_id", "data"}``."""
    return JSONResponse({"request_id": new_request_id(), "data": payload})
