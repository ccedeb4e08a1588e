"""The outermost middleware: which region a request reaches, and its request id.

One emulator serves both regions the connection's ``region`` can name: Beijing at
``/api/v1`` and ``/compatible-mode/v1``, Singapore (``dashscope-intl``) at the same paths
under ``/intl`` — or at the plain paths when the ``Host`` header is a ``dashscope-intl`` host.
Resources live in the region they were made in (the regions are separate services).

error-code.md's samples carry a ``request_id``; every API answer also carries it as the
``X-Request-ID`` header, equal to the body's ``request_id``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .catalog import BEIJING, SINGAPORE
from .errors import start_request

INTL_PREFIX = "/intl"
CONTROL_PREFIX = "/__emulator__"


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return str(value.decode("latin-1"))
    return ""


class WireMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        region = SINGAPORE if _host(scope).startswith("dashscope-intl") else BEIJING
        if path == INTL_PREFIX or path.startswith(INTL_PREFIX + "/"):
            path = path[len(INTL_PREFIX) :] or "/"
            scope = {**scope, "path": path, "raw_path": path.encode()}
            region = SINGAPORE
        scope = {**scope, "dashscope_region": region}
        if path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        header = (b"x-request-id", start_request().encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        await self.app(scope, receive, send_with_id)
