"""Every HTTP endpoint of the emulator, one module per resource; no state machine here.

To add an endpoint: write an ``async def`` handler in the module of its resource (or a new
module added to the lists below). A handler reads the request, then does its work inside
``with emulator_of(request).session() as now:`` (which applies due transitions first and
persists what changed when it ends) by calling the resource's state module (``jobs``,
``job_create``, ``checkpoints``, ``deployments``, ``file_store``, ``replies``), and returns
``output(...)`` or ``data(...)``. Errors are raised as ``ApiError``; the app renders them.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import compatible, control, deployments, files, fine_tunes, generation

#: Served under ``/api/v1`` (key and workspace checked).
API_ROUTERS: tuple[APIRouter, ...] = (
    files.router,
    fine_tunes.router,
    deployments.router,
    generation.router,
)
#: Served under ``/compatible-mode/v1`` (key and workspace checked).
COMPATIBLE_ROUTERS: tuple[APIRouter, ...] = (compatible.router,)
#: ``/__emulator__``: no key, never faulted nor counted.
CONTROL_ROUTERS: tuple[APIRouter, ...] = (control.router,)
