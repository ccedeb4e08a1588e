"""What the suite watches while scenarios run, from outside the processes it measures.

A background sampler, once a second, counts each triggerer's open sockets to the emulator,
and records every command line of every process the suite started (and their children) and
what Redis and the ``trigger`` table hold at that moment: task messages and trigger rows live
only while tasks run, so the secrets scenario checks what was seen along the way, not only
what is left at the end. Event-loop lag is read from the triggerers' own watchdog log lines.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from .cluster import TRIGGERERS, Airflow
from .processes import Process
from .services import Redis

# Airflow's triggerer watchdog sleeps 0.1 s and logs any wake-up later than its threshold.
WATCHDOG = re.compile(r"async thread was blocked for (\d+(?:\.\d+)?) seconds")
WATCHDOG_SLEEP = 0.1


@dataclass
class Leaks:
    """Where the secret was seen, and how much was looked at."""

    found: list[str] = field(default_factory=list)
    cmdlines: set[str] = field(default_factory=set)
    redis_samples: int = 0
    redis_messages: int = 0
    trigger_ids: set[int] = field(default_factory=set)


@dataclass
class Window:
    """Figures over one scenario."""

    sockets: dict[str, int] = field(default_factory=dict)
    log_offsets: dict[str, int] = field(default_factory=dict)

    def worst_lag(self, airflow: Airflow) -> float:
        """The triggerers' worst event-loop lag (seconds) since the window opened."""
        worst = 0.0
        for process in airflow.all_processes():
            if not process.name.startswith("triggerer") or not process.log.exists():
                continue
            with process.log.open("rb") as log:
                log.seek(self.log_offsets.get(str(process.log), 0))
                text = log.read().decode(errors="replace")
            for match in WATCHDOG.finditer(text):
                worst = max(worst, float(match.group(1)) - WATCHDOG_SLEEP)
        return round(worst, 3)


class Observer:
    def __init__(
        self,
        airflow: Airflow,
        redis: Redis,
        emulator_port: int,
        secret: str,
        services: list[Process],
    ) -> None:
        self.airflow = airflow
        self.services = services
        self.redis = redis
        self.port = emulator_port
        self.secret = secret
        self.leaks = Leaks()
        self.window = Window()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="observer", daemon=True)
        self.errors: list[str] = []
        self.rounds = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def open_window(self) -> Window:
        with self._lock:
            self.window = Window(
                log_offsets={
                    str(p.log): p.log.stat().st_size
                    for p in self.airflow.all_processes()
                    if p.log.exists()
                }
            )
            return self.window

    # -- sampling ----------------------------------------------------------------------------
    def _loop(self) -> None:
        tick = 0
        while not self._stop.wait(1.0):
            tick += 1
            self.rounds = tick
            for step in (self._sample_processes, self._sample_redis, self._sample_triggers):
                if step is not self._sample_processes and tick % 2:
                    continue
                self._guard(step)

    def _guard(self, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception as exc:  # a sample may race a process's exit or a DB restart
            if len(self.errors) < 20:
                self.errors.append(f"{step.__name__}: {exc!r}")

    def _sample_processes(self) -> None:
        for process in [*self.airflow.all_processes(), *self.services]:
            tree = process.tree()
            if process.name in TRIGGERERS and process.alive():
                open_now = sum(self._emulator_sockets(p) for p in tree)
                with self._lock:
                    seen = self.window.sockets.get(process.name, 0)
                    self.window.sockets[process.name] = max(seen, open_now)
            for proc in tree:
                try:
                    line = "\0".join(proc.cmdline())
                except psutil.Error:
                    continue
                if line not in self.leaks.cmdlines:
                    self.leaks.cmdlines.add(line)
                    if self.secret in line:
                        self.leaks.found.append(f"command line of pid {proc.pid}")

    def _emulator_sockets(self, proc: psutil.Process) -> int:
        try:
            conns = proc.net_connections(kind="tcp")
        except psutil.Error:
            return 0
        return sum(
            1
            for c in conns
            if c.raddr and c.raddr.port == self.port and c.status == psutil.CONN_ESTABLISHED
        )

    def _sample_redis(self) -> None:
        text = self.redis.dump()
        self.leaks.redis_samples += 1
        # kombu's Redis transport: queued messages in a list per queue, delivered but not yet
        # acknowledged ones (Airflow acks late: for a task's whole run) in "unacked".
        if "ExecuteTask" in text or "execute_workload" in text:
            self.leaks.redis_messages += 1
        if self.secret in text:
            self.leaks.found.append("a Redis key or message")

    def _sample_triggers(self) -> None:
        for trigger_id, classpath, kwargs, _ in self.airflow.triggers():
            if trigger_id in self.leaks.trigger_ids:
                continue
            self.leaks.trigger_ids.add(trigger_id)
            if self.secret in kwargs:
                self.leaks.found.append(f"kwargs of trigger {trigger_id} ({classpath})")

    def snapshot(self) -> dict[str, Any]:
        return {
            "cmdlines": len(self.leaks.cmdlines),
            "redis_samples": self.leaks.redis_samples,
            "redis_samples_with_messages": self.leaks.redis_messages,
            "triggers_seen": len(self.leaks.trigger_ids),
        }
