"""The async client's keep-alive connections, without httpcore's per-request pool scans.

httpcore's pool rescans every pooled connection each time a request comes or goes: it asks
each whether its socket is readable (a ``poll`` call and a dozen attribute lookups through
anyio) and, for each idle one, counts all of them again. With 16 mostly idle connections
that was about half of a trigger's CPU per poll. The async client never has more requests
in flight than ``max_connections`` (its semaphore), so no request ever waits here and the
pool can be a stack of idle connections: take the warmest, check only that one, give it
back when its answer is closed. Connections are still ``httpcore.AsyncHTTPConnection``
(HTTP/1.1, TLS over the shared context), and httpx still maps their errors.

A bodiless request's read and write timeouts are kept by one watchdog per pool instead of
httpcore's ``anyio.fail_after`` around every socket read and write. Each of those arms an
asyncio timer for the full timeout (60 s) and cancels it a millisecond later; asyncio keeps
a cancelled timer in its heap until most of the heap is cancelled, so with a thousand
triggers asleep every poll left two or three timers (and their contexts) alive for many
seconds. Those were promoted to the collector's oldest generation and made the full
collections that stall the triggerer's loop (bench/RESULTS.md). The watchdog wakes once a
second while anything is in flight and closes a connection that has received nothing for
the read timeout; the read then fails as a ``ReadTimeout``, as before. Requests with a body
(uploads) keep httpcore's own timeouts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpcore
import httpx

_Key = tuple[bytes, bytes, int]
#: Seconds between two looks of the watchdog (the granularity of a watched timeout).
WATCH_EVERY = 1.0
#: The timeouts httpcore applies per socket operation; the watchdog keeps read and write.
_UNWATCHED = {"read": None, "write": None, "pool": None}


def _key(origin: httpcore.Origin) -> _Key:
    """``httpcore.Origin`` compares by value but cannot be a dict key."""
    return (origin.scheme, origin.host, origin.port)


def _has_body(request: httpcore.Request) -> bool:
    for name, value in request.headers:
        lowered = name.lower()
        if lowered == b"transfer-encoding" or (lowered == b"content-length" and value != b"0"):
            return True
    return False


class LeanPool:
    """``handle_async_request`` / ``aclose`` over a stack of idle connections per origin."""

    def __init__(self, *, ssl_context: Any, max_keepalive: int, keepalive_expiry: float) -> None:
        self._ssl_context = ssl_context
        self._max_keepalive = max_keepalive
        self._keepalive_expiry = keepalive_expiry
        self._idle: dict[_Key, list[httpcore.AsyncHTTPConnection]] = {}
        self._busy: set[httpcore.AsyncHTTPConnection] = set()
        #: Watched connection -> [time of its last activity, its timeout in seconds].
        self._watched: dict[httpcore.AsyncHTTPConnection, list[float]] = {}
        self._timed_out: set[httpcore.AsyncHTTPConnection] = set()
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def connections(self) -> list[httpcore.AsyncHTTPConnection]:
        """Open connections, idle and busy (for tests and benchmarks)."""
        return [c for stack in self._idle.values() for c in stack] + list(self._busy)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        connection = await self._take(request.url.origin)
        self._busy.add(connection)
        self._watch(connection, request)
        try:
            response = await connection.handle_async_request(request)
        except BaseException as error:
            self._busy.discard(connection)
            self._watched.pop(connection, None)
            await connection.aclose()
            self._raise_if_timed_out(connection, error)
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

    # --- the watchdog ---------------------------------------------------------------------

    def _watch(self, connection: httpcore.AsyncHTTPConnection, request: httpcore.Request) -> None:
        """Take a bodiless request's read/write timeouts over from httpcore (see above)."""
        timeouts = request.extensions.get("timeout") or {}
        limit = timeouts.get("read")
        if limit is None or _has_body(request):
            return
        request.extensions["timeout"] = {**timeouts, **_UNWATCHED}
        self._watched[connection] = [time.monotonic(), float(limit)]
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.get_running_loop().create_task(self._watch_loop())

    def _touched(self, connection: httpcore.AsyncHTTPConnection) -> None:
        watched = self._watched.get(connection)
        if watched is not None:
            watched[0] = time.monotonic()

    async def _watch_loop(self) -> None:
        while self._watched:
            await asyncio.sleep(WATCH_EVERY)
            now = time.monotonic()
            for connection, (last, limit) in list(self._watched.items()):
                if now - last > limit:
                    self._watched.pop(connection, None)
                    self._timed_out.add(connection)
                    await connection.aclose()  # the pending read fails at once

    def _raise_if_timed_out(
        self, connection: httpcore.AsyncHTTPConnection, error: BaseException
    ) -> None:
        if connection in self._timed_out:
            self._timed_out.discard(connection)
            raise httpcore.ReadTimeout("No answer within the read timeout") from error

    async def _give_back(self, connection: httpcore.AsyncHTTPConnection) -> None:
        self._watched.pop(connection, None)
        self._timed_out.discard(connection)
        self._busy.discard(connection)
        if connection.is_idle():
            stack = self._idle.setdefault(_key(connection._origin), [])
            if len(stack) < self._max_keepalive:
                stack.append(connection)
                return
        await connection.aclose()

    async def aclose(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        for connection in self.connections:
            await connection.aclose()
        self._idle.clear()
        self._busy.clear()
        self._watched.clear()


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
                self._pool._touched(self._connection)
                yield part
        except BaseException as error:
            timed_out = self._connection in self._pool._timed_out
            await self.aclose()
            if timed_out:
                raise httpcore.ReadTimeout("No answer within the read timeout") from error
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
