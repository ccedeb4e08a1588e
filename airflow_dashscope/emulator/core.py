"""One emulator instance: settings, clock, store, faults, counters, and its control actions.

The HTTP routers and :class:`~airflow_dashscope.emulator.runner.RunningEmulator` both call
these methods, so the control API and in-process control can never disagree.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import jobs
from .clock import Clock
from .deployments import refresh_deployments
from .errors import bad_request
from .faults import Counters, FaultRegistry, FaultRule
from .settings import Settings
from .state import Store


class Emulator:
    def __init__(self, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or Settings()
        self.clock = clock or Clock(manual=self.settings.manual_clock)
        self._owns_dir = self.settings.state_dir is None
        state_dir = (
            Path(tempfile.mkdtemp(prefix="dashscope-emulator-"))
            if self.settings.state_dir is None
            else Path(self.settings.state_dir)
        )
        self.state_dir = state_dir
        self.store = Store(state_dir)
        if self.store.load() and clock is None:
            self.clock.set_offset(self.store.clock_offset)
        self.faults = FaultRegistry()
        self.counters = Counters()

    # -- time ---------------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[float]:
        """Hold the lock with every due transition applied; yields the current time."""
        with self.store.lock:
            now = self.clock.now()
            jobs.refresh_jobs(self.store, self.settings, now)
            refresh_deployments(self.store, self.settings, now)
            yield now

    def persist(self) -> None:
        with self.store.lock:
            self.store.clock_offset = self.clock.offset
            self.store.save()

    def advance(self, seconds: float) -> float:
        """Move the clock forward and apply what became due; returns the new time."""
        try:
            self.clock.advance(float(seconds))
        except (TypeError, ValueError) as exc:
            raise bad_request(str(exc)) from None
        with self.session() as now:
            self.persist()
            return now

    # -- control ------------------------------------------------------------------------
    def fail_job(
        self,
        job_id: str,
        code: str = "InternalError",
        message: str = "Internal server error!",
        when: str = "now",
    ) -> dict[str, Any]:
        with self.session() as now:
            job = jobs.get_job(self.store, None, job_id)
            jobs.fail_job(self.store, job, now, code, message, when)
            self.persist()
            return jobs.job_object(job)

    def extend_job(self, job_id: str, seconds: float) -> dict[str, Any]:
        with self.session():
            job = jobs.get_job(self.store, None, job_id)
            jobs.extend_job(job, float(seconds))
            self.persist()
            return jobs.job_object(job)

    def inject_fault(self, **options: Any) -> dict[str, Any]:
        """Arm a fault; see :class:`~airflow_dashscope.emulator.faults.FaultRule`."""
        try:
            rule = FaultRule(**options)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"Invalid fault: {exc}") from None
        return self.faults.add(rule).describe()

    def counters_snapshot(self) -> dict[str, Any]:
        return self.counters.snapshot()

    def reset(self) -> None:
        """Forget all resources, faults and counters. The clock keeps its time."""
        self.store.clear()
        self.faults.clear()
        self.counters.reset()

    def close(self) -> None:
        self.persist()
        if self._owns_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
