"""Fault injection and wire counters, as one raw ASGI middleware.

A raw middleware (not ``BaseHTTPMiddleware``) is used because two faults need control of the
ASGI messages themselves: a *delay* must happen before the app runs, and a *drop* must start a
response and then abandon it, which makes uvicorn close the socket mid-body so the client sees
a broken response (httpx raises ``RemoteProtocolError``). A *drop_after* lets the app act on
the request first (a job is created) and loses its answer: the ambiguous failure a client's
create must reconcile. Control paths (``/__emulator__``) are
never faulted nor counted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import DEFAULT_MESSAGES, STATUS_CODES, error_body

CONTROL_PREFIX = "/__emulator__"
FAULT_KINDS = ("error", "delay", "drop", "drop_after")


@dataclass
class FaultRule:
    """Affects the next ``count`` requests whose method and path match."""

    kind: str = "error"
    status: int = 500
    count: int = 1
    method: str | None = None
    path: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    code: str | None = None
    message: str | None = None
    fault_id: int = 0
    hits: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if self.count < 1:
            raise ValueError("count must be >= 1")
        if self.kind == "error" and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400..599)")
        self._pattern = re.compile(self.path) if self.path else None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return self._pattern is None or self._pattern.search(path) is not None

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_pattern", None)
        return data


class FaultRegistry:
    """Armed fault rules, consumed first-armed first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.fault_id = next(self._ids)
            self._rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule, with one use consumed (removed when used up)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.count -= 1
                    rule.hits += 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()


class Counters:
    """What happened on the wire since the last reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.connections: set[tuple[str, int]] = set()
            self.faults_triggered = 0
            self.jobs_created = 0
            self.deployments_created = 0
            self.files_uploaded = 0

    def bump(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def record_request(self, endpoint: str, client: tuple[str, int] | None) -> None:
        with self._lock:
            self.requests[endpoint] += 1
            if client is not None:
                self.connections.add((client[0], client[1]))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "requests_total": sum(self.requests.values()),
                "connections": len(self.connections),
                "jobs_created": self.jobs_created,
                "deployments_created": self.deployments_created,
                "files_uploaded": self.files_uploaded,
                "faults_triggered": self.faults_triggered,
            }


def _route_template(app: Any, scope: Scope) -> str:
    for route in getattr(getattr(app, "router", None), "routes", []):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(route.path)
    return str(scope["path"])


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _discard(message: Any) -> None:
    """A ``send`` that loses the app's answer (for ``drop_after``)."""


class FaultMiddleware:
    """Counts every API request, then applies the first armed fault that matches it."""

    def __init__(self, app: ASGIApp, faults: FaultRegistry, counters: Counters, routes: Any):
        self.app = app
        self.faults = faults
        self.counters = counters
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        client = scope.get("client")
        self.counters.record_request(
            f"{method} {_route_template(self.routes, scope)}",
            (str(client[0]), int(client[1])) if client else None,
        )
        rule = self.faults.take(method, path)
        if rule is None:
            await self.app(scope, receive, send)
            return
        self.counters.bump("faults_triggered")
        if rule.kind == "delay":
            await asyncio.sleep(rule.delay)
            await self.app(scope, receive, send)
        elif rule.kind in ("drop", "drop_after"):
            if rule.kind == "drop_after":
                await self.app(scope, receive, _discard)
            else:
                await _drain(receive)
            # Promise a body, deliver a fragment, return: uvicorn then closes the connection.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", b"4096"),
                    ],
                }
            )
            await send(
                {"type": "http.response.body", "body": b'{"request_id": "', "more_body": True}
            )
        else:
            await _drain(receive)
            code = rule.code or STATUS_CODES.get(rule.status, "InternalError")
            message = rule.message or DEFAULT_MESSAGES.get(code, code)
            body = json.dumps(error_body(path, rule.status, code, message)).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            if rule.retry_after is not None:
                value = f"{rule.retry_after:g}"
                headers.append((b"retry-after", value.encode()))
            await send({"type": "http.response.start", "status": rule.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
