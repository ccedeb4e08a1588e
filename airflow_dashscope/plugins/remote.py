"""Reads jobs, logs, checkpoints and deployments through the provider's hook, briefly cached.

Many browsers polling the same running job cost one request per kind per ``ttl`` seconds;
a job's log is read on from where the last read stopped (the triggers' own
:class:`~airflow_dashscope.waiting.LogFollower`), so a long log is fetched once. The key stays
inside the hook's client: nothing here returns a config, a header or a connection.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import Checkpoint, DashScopeFile, Deployment, FineTuneJob
from airflow_dashscope.hooks.dashscope import DashScopeHook
from airflow_dashscope.links.console import console_url, region_of
from airflow_dashscope.waiting import LogFollower, read_rest_of_log

T = TypeVar("T")

#: Log pages read per refresh at most (a job's log is a few thousand lines at most).
MAX_LOG_PAGES = 20


class TtlCache:
    """A small thread-safe map whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(
        self, ttl: float, *, size: int = 512, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.size, self.clock = ttl, size, clock
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_load(self, key: Any, load: Callable[[], T]) -> T:
        now = self.clock()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = load()
        with self._lock:
            self._items[key] = (now + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class _JobLog:
    """The lines of one job's log read so far."""

    def __init__(self) -> None:
        self.follower = LogFollower()
        self.lines: list[str] = []
        self.lock = threading.Lock()


class RemoteReader:
    """Cached reads of DashScope resources, one hook (and pooled client) per connection id."""

    def __init__(self, ttl: float = 5.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.cache = TtlCache(ttl, clock=clock)
        self._hooks: dict[str, DashScopeHook] = {}
        self._logs: OrderedDict[tuple[str, str], _JobLog] = OrderedDict()
        self._lock = threading.Lock()

    def client(self, conn_id: str) -> DashScopeClient:
        with self._lock:
            hook = self._hooks.get(conn_id)
            if hook is None:
                hook = self._hooks[conn_id] = DashScopeHook(dashscope_conn_id=conn_id)
        return hook.get_conn()

    def console(self, conn_id: str) -> Callable[[str, str], str]:
        """Console links in the region and workspace of ``conn_id`` (no key involved)."""
        config = self.client(conn_id).config
        return partial(console_url, region=region_of(config.base_url), workspace=config.workspace)

    def job(self, conn_id: str, job_id: str) -> FineTuneJob:
        return self.cache.get_or_load(
            ("job", conn_id, job_id), lambda: self.client(conn_id).get_fine_tune(job_id)
        )

    def jobs(self, conn_id: str) -> dict[str, FineTuneJob]:
        """Every job the connection's workspace lists, by id (one list walk per ``ttl``)."""
        return self.cache.get_or_load(
            ("jobs", conn_id),
            lambda: {job.job_id: job for job in self.client(conn_id).list_fine_tunes()},
        )

    def checkpoints(self, conn_id: str, job_id: str) -> list[Checkpoint]:
        return self.cache.get_or_load(
            ("checkpoints", conn_id, job_id),
            lambda: self.client(conn_id).list_checkpoints(job_id),
        )

    def deployments(self, conn_id: str) -> dict[str, Deployment]:
        """Every deployment of the connection's workspace, by ``deployed_model``."""
        return self.cache.get_or_load(
            ("deployments", conn_id),
            lambda: {d.deployed_model: d for d in self.client(conn_id).list_deployments()},
        )

    def files(self, conn_id: str) -> list[DashScopeFile]:
        """Every file of the connection's account (the service's pages walked once per ``ttl``)."""
        return self.cache.get_or_load(
            ("files", conn_id), lambda: list(self.client(conn_id).list_files())
        )

    def logs(self, conn_id: str, job_id: str) -> list[str]:
        """The job's whole log so far; each refresh asks only for the lines after the last."""
        return self.cache.get_or_load(
            ("logs", conn_id, job_id), lambda: self._read_logs(conn_id, job_id)
        )

    def _read_logs(self, conn_id: str, job_id: str) -> list[str]:
        with self._lock:
            log = self._logs.get((conn_id, job_id))
            if log is None:
                log = self._logs[(conn_id, job_id)] = _JobLog()
            self._logs.move_to_end((conn_id, job_id))
            while len(self._logs) > self.cache.size:
                self._logs.popitem(last=False)
        with log.lock:
            log.lines.extend(
                read_rest_of_log(
                    self.client(conn_id), job_id, log.follower, max_pages=MAX_LOG_PAGES
                )
            )
            return list(log.lines)
