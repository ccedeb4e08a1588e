"""One emulator instance: settings, clock, store, faults, counters, and its control actions.

The HTTP routers and :class:`~airflow_dashscope.emulator.runner.RunningEmulator` both go
through :meth:`Emulator.session`, so the control API and in-process control can never disagree,
and every change made inside a session is persisted when it ends (nothing to remember).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import checkpoints, jobs
from .clock import Clock
from .deployments import deployment_object, refresh_deployments, set_status
from .errors import ApiError, bad_request
from .faults import Counters, FaultRegistry, FaultRule
from .settings import Settings
from .state import JobRecord, Store


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
        self.store = Store(state_dir, persistent=not self._owns_dir)
        if self.store.load() and clock is None:
            self.clock.set_offset(self.store.clock_offset)
        jobs.rebuild_schedule(self.store, self.settings)
        self.faults = FaultRegistry()
        self.counters = Counters()

    # -- time ---------------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[float]:
        """Hold the lock with every due transition applied; yields the current time. What
        changed is written to the state dir when the session ends, even on an error."""
        with self.store.lock:
            try:
                now = self.clock.now()
                jobs.refresh_jobs(self.store, self.settings, now)
                refresh_deployments(self.store, self.settings, now)
                yield now
            finally:
                self.store.flush()

    def advance(self, seconds: float) -> float:
        """Move the clock forward and apply what became due; returns the new time."""
        try:
            self.clock.advance(float(seconds))
        except (TypeError, ValueError) as exc:
            raise bad_request(str(exc)) from None
        with self.session() as now:
            # A control action, not a tick: the real clock moving writes nothing.
            self.store.clock_offset = self.clock.offset
            self.store.meta_dirty = True
            return now

    # -- control ------------------------------------------------------------------------
    def _job(self, job_id: str) -> JobRecord:
        return jobs.get_job(self.store, None, job_id)

    def fail_job(
        self,
        job_id: str,
        code: str = "InternalError",
        message: str = "Internal server error!",
        when: str = "now",
    ) -> dict[str, Any]:
        with self.session() as now:
            job = self._job(job_id)
            jobs.fail_job(self.store, self.settings, job, now, code, message, when)
            return jobs.job_object(job)

    def extend_job(self, job_id: str, seconds: float) -> dict[str, Any]:
        with self.session():
            job = self._job(job_id)
            jobs.extend_job(self.store, self.settings, job, float(seconds))
            return jobs.job_object(job)

    def fail_export(
        self,
        job_id: str,
        checkpoint: str,
        code: str = "InternalError",
        message: str = "Internal server error!",
    ) -> list[dict[str, Any]]:
        """Fail the export of ``checkpoint`` now, or its next export when that one ends;
        returns the job's checkpoint list."""
        with self.session() as now:
            job = self._job(job_id)
            checkpoints.fail_export(self.settings, job, checkpoint, code, message, now)
            return checkpoints.checkpoint_objects(job, now, self.settings.export_seconds)

    def set_deployment_status(self, deployed_model: str, status: str) -> dict[str, Any]:
        """Stop (``"STOPPED"``) or fail (``"FAILED"``) a deployment at once."""
        with self.session() as now:
            dep = self.store.deployments.get(deployed_model)
            if dep is None:
                raise ApiError(404, "NotFound", f"Model: {deployed_model} not found!")
            set_status(dep, status, now)
            return deployment_object(dep)

    def inject_fault(self, **options: Any) -> dict[str, Any]:
        """Arm a fault; see :class:`~airflow_dashscope.emulator.faults.FaultRule`."""
        try:
            rule = FaultRule(**options)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"Invalid fault: {exc}") from None
        return self.faults.add(rule).describe()

    def set_limits(self, **limits: Any) -> dict[str, int]:
        """Change account limits (``Settings.LIMITS``); returns all of them."""
        with self.session():
            try:
                return self.settings.set_limits(limits)
            except ValueError as exc:
                raise bad_request(str(exc)) from None

    def counters_snapshot(self) -> dict[str, Any]:
        return self.counters.snapshot()

    def reset(self) -> None:
        """Forget all resources, faults and counters. The clock keeps its time."""
        self.store.clear()
        self.faults.clear()
        self.counters.reset()

    def close(self) -> None:
        with self.store.lock:
            self.store.clock_offset = self.clock.offset
            self.store.meta_dirty = True
            self.store.flush()
        if self._owns_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
