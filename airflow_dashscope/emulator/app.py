"""The ASGI app: the routers of ``routes/``, error rendering, and the middlewares (wire:
region and request id; faults and counters)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .core import Emulator
from .errors import COMPATIBLE_PREFIX, ApiError, error_body
from .faults import FaultMiddleware
from .routes import API_ROUTERS, COMPATIBLE_ROUTERS, CONTROL_ROUTERS
from .settings import Settings
from .web import authenticate
from .wire import WireMiddleware

API_PREFIX = "/api/v1"
log = logging.getLogger(__name__)


def _error(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(request.url.path, status, code, message), status, headers)


def create_app(emulator: Emulator | None = None, **settings: Any) -> FastAPI:
    """Build the app. Pass an :class:`Emulator`, or :class:`Settings` fields as keywords."""
    emu = emulator or Emulator(Settings(**settings))
    app = FastAPI(title="DashScope emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = emu

    for prefix, routers in ((API_PREFIX, API_ROUTERS), (COMPATIBLE_PREFIX, COMPATIBLE_ROUTERS)):
        group = APIRouter(prefix=prefix, dependencies=[Depends(authenticate)])
        for router in routers:
            group.include_router(router)
        app.include_router(group)
    for router in CONTROL_ROUTERS:
        app.include_router(router)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(request, exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error(request, 404, "NotFound", "Not Found!")
        if exc.status_code == 405:
            return _error(request, 405, "MethodNotAllowed", "Method Not Allowed")
        return _error(request, exc.status_code, "InvalidParameter", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(request, 400, "InvalidParameter", str(exc.errors()))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("emulator bug while serving %s", request.url.path)
        return _error(request, 500, "InternalError", "Internal server error!")

    app.add_middleware(FaultMiddleware, faults=emu.faults, counters=emu.counters, routes=app)
    app.add_middleware(WireMiddleware)
    return app
