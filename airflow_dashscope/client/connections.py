"""The async client's keep-alive connections, without httpcore's per-request pool scans.

httpcore's pool rescans every pooled connection each time a request comes or goes: it asks
each whether its socket is readable (a ``poll`` call and a dozen attribute lookups through
anyio) and, for each idle one, counts all of them again. With 16 mostly idle connections
that was about half of a trigger's CPU per poll. The async client never has more requests
in flight than ``max_connections`` (its semaphore), so no request ever waits here and the
pool can be a stack of idle connections: take the warmest, check only that one, give it
back when its answer is closed. Connections are still ``httpcore.AsyncHTTPConnection``
(HTTP/1.1, TLS over the shared context), and httpx still maps their errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpcore
import httpx

_Key = tuple[bytes, bytes, int]


def _key(origin: httpcore.Origin) -> _Key:
    """``httpcore.Origin`` compares by value but cannot be a dict key."""
    return (origin.scheme, origin.host, origin.port)


class LeanPool:
    """``handle_async_request`` / ``aclose`` over a stack of idle connections per origin."""

    def __init__(self, *, ssl_context: Any, max_keepalive: int, keepalive_expiry: float) -> None:
        self._ssl_context = ssl_context
        self._max_keepalive = max_keepalive
        self._keepalive_expiry = keepalive_expiry
        self._idle: dict[_Key, list[httpcore.AsyncHTTPConnection]] = {}
        self._busy: set[httpcore.AsyncHTTPConnection] = set()

    @property
    def connections(self) -> list[httpcore.AsyncHTTPConnection]:
        """Open connections, idle and busy (for tests and benchmarks)."""
        return [c for stack in self._idle.values() for c in stack] + list(self._busy)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        connection = await self._take(request.url.origin)
        self._busy.add(connection)
        try:
            response = await connection.handle_async_request(request)
        except BaseException:
            self._busy.discard(connection)
            await connection.aclose()
            raise
        stream = _Released(response.stream, self, connection)
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=stream,
            extensions=response.extensions,
        )

    async def _take(self, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        stack = self._idle.get(_key(origin))
        while stack:
            connection = stack.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()  # closed by the server, or kept too long
        return httpcore.AsyncHTTPConnection(
            origin=origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
        )

    async def _give_back(self, connection: httpcore.AsyncHTTPConnection) -> None:
        self._busy.discard(connection)
        if connection.is_idle():
            stack = self._idle.setdefault(_key(connection._origin), [])
            if len(stack) < self._max_keepalive:
                stack.append(connection)
                return
        await connection.aclose()

    async def aclose(self) -> None:
        for connection in self.connections:
            await connection.aclose()
        self._idle.clear()
        self._busy.clear()


class _Released:
    """An answer's body; closing it gives its connection back to the pool."""

    __slots__ = ("_closed", "_connection", "_pool", "_stream")

    def __init__(
        self, stream: Any, pool: LeanPool, connection: httpcore.AsyncHTTPConnection
    ) -> None:
        self._stream = stream
        self._pool = pool
        self._connection = connection
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._stream.aclose()
        finally:
            await self._pool._give_back(self._connection)


def lean_transport(
    ssl_context: Any, *, max_connections: int, keepalive_expiry: float
) -> httpx.AsyncHTTPTransport:
    """httpx's transport (its request/answer conversion and error mapping) over a
    :class:`LeanPool` instead of httpcore's pool."""
    transport = httpx.AsyncHTTPTransport(verify=ssl_context)
    transport._pool = LeanPool(  # type: ignore[assignment]
        ssl_context=ssl_context,
        max_keepalive=max_connections,
        keepalive_expiry=keepalive_expiry,
    )
    return transport
