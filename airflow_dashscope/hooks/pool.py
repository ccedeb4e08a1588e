"""One async DashScope client per connection configuration, shared by every trigger in a loop.

A triggerer runs hundreds of triggers in one event loop. A client each would mean a pool, a
TLS context and a socket per trigger (about 870 KB and a new connection per poll at a
thousand triggers); here every trigger whose connection resolves to the same settings
borrows the same :class:`~airflow_dashscope.client.AsyncDashScopeClient`:

* the cache key is an HMAC of the resolved configuration (key included) under a random
  per-process salt: a rotated key is a new configuration, so it gets a new client, and the
  key itself is held nowhere but in the client's own config (never logged or serialized);
* clients are per event loop (an httpx pool belongs to the loop that opened its sockets);
* leases are counted: the last trigger to give its lease back closes the client, so
  nothing stays open once every trigger has ended;
* the loop never does CPU-heavy set-up: the one TLS context of the process is built in a
  worker thread the first time, and a client built over it costs microseconds;
* triggers of one connection that start together share one connection lookup
  (:class:`RecentConfigs`): a thousand triggers resumed at once would otherwise each pay
  a lookup and a config build in the same turn of the loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_dashscope.client import AsyncDashScopeClient
    from airflow_dashscope.client.config import ClientConfig

_SALT = os.urandom(16)


def config_digest(config: ClientConfig) -> str:
    """A key for ``config`` that cannot be turned back into the API key."""
    parts = []
    for item in fields(config):
        value = getattr(config, item.name)
        if item.name == "api_key":
            value = value.get_secret_value()
        parts.append(f"{item.name}={value!r}")
    return hmac.new(_SALT, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


@dataclass
class _Shared:
    client: AsyncDashScopeClient
    leases: int = 0


class AsyncClientPool:
    """Lends shared async clients, keyed by event loop and :func:`config_digest`."""

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Shared]] = (
            weakref.WeakKeyDictionary()
        )
        # Triggers that start together share one looked-up config (RecentConfigs): its
        # digest (an HMAC) is computed once for them, and a lent client remembers its own.
        self._last: tuple[ClientConfig, str] | None = None
        self._keys: weakref.WeakKeyDictionary[AsyncDashScopeClient, str] = (
            weakref.WeakKeyDictionary()
        )

    def _digest(self, config: ClientConfig) -> str:
        last = self._last
        if last is not None and last[0] is config:
            return last[1]
        key = config_digest(config)
        self._last = (config, key)
        return key

    async def acquire(self, config: ClientConfig) -> AsyncDashScopeClient:
        """A client for ``config``; give it back with :meth:`release` exactly once."""
        from airflow_dashscope.client import AsyncDashScopeClient
        from airflow_dashscope.client.base import shared_tls_context, tls_context_ready

        if not tls_context_ready():
            await asyncio.to_thread(shared_tls_context)
        clients, key = self._clients(), self._digest(config)
        shared = clients.get(key)
        if shared is None:
            # Nothing is awaited between the lookup and here: never two clients for one key.
            shared = clients[key] = _Shared(AsyncDashScopeClient(config))
            self._keys[shared.client] = key
        shared.leases += 1
        return shared.client

    async def release(self, client: AsyncDashScopeClient) -> None:
        """Give a lease back; the last one closes the client."""
        clients = self._clients()
        key = self._keys.get(client) or config_digest(client.config)
        shared = clients.get(key)
        if shared is None or shared.client is not client:
            await client.aclose()  # not lent by this pool (or loop): the caller's to close
            return
        shared.leases -= 1
        if shared.leases == 0:
            del clients[key]
            await client.aclose()

    def open_clients(self) -> int:
        """Clients held for the running loop (for tests and benchmarks)."""
        return len(self._clients())

    def _clients(self) -> dict[str, _Shared]:
        loop = asyncio.get_running_loop()
        clients = self._loops.get(loop)
        if clients is None:
            clients = self._loops[loop] = {}
        return clients


#: Seconds a looked-up configuration serves other triggers of the same connection. Short:
#: a trigger started after a key rotation sees the new key within this time.
FRESH_FOR = 1.0


class RecentConfigs:
    """One connection lookup per connection id per second, shared by the triggers asking."""

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, tuple[float, asyncio.Task[ClientConfig]]]
        ] = weakref.WeakKeyDictionary()

    async def get(
        self, conn_id: str, lookup: Callable[[], Awaitable[ClientConfig]]
    ) -> ClientConfig:
        loop = asyncio.get_running_loop()
        entries = self._loops.setdefault(loop, {})
        now = loop.time()
        fresh = entries.get(conn_id)
        if fresh is None or fresh[0] < now or _failed(fresh[1]):
            task = loop.create_task(_resolved(lookup))
            fresh = entries[conn_id] = (now + FRESH_FOR, task)
        # shield: one asker being cancelled must not cancel the lookup the others await.
        return await asyncio.shield(fresh[1])


def _failed(task: asyncio.Task[ClientConfig]) -> bool:
    """A finished lookup that gave no configuration (the next asker looks up again)."""
    return task.done() and (task.cancelled() or task.exception() is not None)


async def _resolved(lookup: Callable[[], Awaitable[ClientConfig]]) -> ClientConfig:
    return await lookup()


#: The process's pool: the triggerer's triggers and deferrable sensors all borrow from it.
shared_clients = AsyncClientPool()
recent_configs = RecentConfigs()
