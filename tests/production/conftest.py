"""One production-shaped cluster for the whole suite, and the figures each scenario reports.

Start-up costs minutes on a small machine, so the scenarios share one cluster and run in file
order (``test_1_...`` to ``test_6_...``); each measures its own figures as deltas of the
emulator's counters. Set ``PRODUCTION_KEEP=1`` to keep the throw-away directory (logs,
database) after the run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .cluster import Airflow
from .observe import Observer, Window
from .services import Emulator, Postgres, Redis

# Short emulated timings, but long enough that no trigger fires within seconds of its deferral
# (Airflow 3.3's scheduler may then fail the resumed task "state changed externally").
JOB_SECONDS = 2.0
EXPORT_SECONDS = 8.0
DEPLOY_SECONDS = 8.0

FIGURES: list[dict[str, Any]] = []


@dataclass
class Scenario:
    """The emulator's counters and the triggerers' figures over one scenario."""

    name: str
    production: Production
    window: Window
    before: dict[str, Any]
    jobs_before: dict[str, dict[str, Any]]
    started: float = field(default_factory=time.monotonic)

    def new_jobs(self) -> dict[str, dict[str, Any]]:
        now = self.production.emulator.jobs()
        return {k: v for k, v in now.items() if k not in self.jobs_before}

    def delta(self) -> dict[str, int]:
        after = self.production.emulator.counters()
        requests_after, requests_before = after["requests"], self.before["requests"]
        cancel = "POST /api/v1/fine-tunes/{job_id}/cancel"
        return {
            "jobs": after["jobs_created"] - self.before["jobs_created"],
            "deployments": after["deployments_created"] - self.before["deployments_created"],
            "files": after["files_uploaded"] - self.before["files_uploaded"],
            "cancel_requests": requests_after.get(cancel, 0) - requests_before.get(cancel, 0),
            "requests": after["requests_total"] - self.before["requests_total"],
            "connections_opened": after["connections"] - self.before["connections"],
            "faults": after["faults_triggered"] - self.before["faults_triggered"],
        }

    def report(self, runs: int, **extra: Any) -> dict[str, Any]:
        delta = self.delta()
        jobs = self.new_jobs()
        figures = {
            "scenario": self.name,
            "runs": runs,
            "jobs": delta["jobs"],
            "deployments": delta["deployments"],
            "files": delta["files"],
            "cancelled": sum(1 for j in jobs.values() if j["status"] in ("CANCELED", "CANCELING")),
            "cancel_requests": delta["cancel_requests"],
            "worst_lag_s": self.window.worst_lag(self.production.airflow),
            "sockets": dict(self.window.sockets),
            "connections_opened": delta["connections_opened"],
            "requests": delta["requests"],
            "faults": delta["faults"],
            "seconds": round(time.monotonic() - self.started),
            **extra,
        }
        FIGURES.append(figures)
        print(f"\n[production] {figures}")
        return figures


@dataclass
class Production:
    base: Path
    postgres: Postgres
    redis: Redis
    emulator: Emulator
    airflow: Airflow
    observer: Observer
    secret: str

    def scenario(self, name: str) -> Scenario:
        self.airflow.wait_quiet(timeout=180)
        self.emulator.clear_faults()
        return Scenario(
            name,
            self,
            self.observer.open_window(),
            self.emulator.counters(),
            self.emulator.jobs(),
        )


@pytest.fixture(scope="session")
def production() -> Iterator[Production]:
    base = Path(tempfile.mkdtemp(prefix="dashscope-production-"))
    base.chmod(0o755)  # the unprivileged PostgreSQL user must reach its data directory
    logs = base / "logs"
    logs.mkdir()
    secret = f"sk-prod-{secrets.token_hex(16)}"
    stack: list[Any] = []
    try:
        postgres = Postgres(base, logs)
        stack.append(postgres)
        redis = Redis(base, logs)
        stack.append(redis)
        emulator = Emulator(
            logs,
            secret,
            job_seconds=JOB_SECONDS,
            deploy_seconds=DEPLOY_SECONDS,
            export_seconds=EXPORT_SECONDS,
            max_jobs=1000,
        )
        stack.append(emulator)
        airflow = Airflow(base, logs, postgres, redis, emulator)
        stack.append(airflow)
        services = [postgres.process, redis.process, emulator.process]
        observer = Observer(airflow, redis, emulator.port, secret, services)
        observer.start()
        stack.append(observer)
        yield Production(base, postgres, redis, emulator, airflow, observer, secret)
    finally:
        for item in reversed(stack):
            item.stop()
        if os.environ.get("PRODUCTION_KEEP"):
            print(f"\n[production] kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    write = terminalreporter.write_line
    terminalreporter.section("production-shaped suite: figures")
    header = ("scenario", "runs", "jobs", "deployments", "cancelled", "worst_lag_s", "sockets")
    write(" | ".join(header) + " | other")
    for fig in FIGURES:
        rest = {k: v for k, v in fig.items() if k not in header}
        write(" | ".join(str(fig[h]) for h in header) + f" | {rest}")
