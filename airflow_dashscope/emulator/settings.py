"""Tunable knobs of one emulator instance (timings, limits, the accepted key)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


@dataclass
class Settings:
    """Timings are emulated seconds on the emulator's clock.

    ``job_seconds`` is the RUNNING phase of a job; a job is PENDING for a quarter of that first,
    so with the default 4 s a small job is PENDING 1 s, RUNNING 4 s and SUCCEEDED at 5 s.
    """

    api_key: str | None = None
    job_seconds: float = 4.0
    deploy_seconds: float = 3.0
    export_seconds: float = 2.0
    state_dir: Path | None = None
    manual_clock: bool = False
    default_workspace: str = "llm-8v53etv3hwb8orx1"
    max_file_bytes: int = 300 * MB
    max_files: int = 100
    max_total_bytes: int = 5 * 1024 * MB
    max_jobs: int = 20
    max_capacity: int = 100

    @property
    def pending_seconds(self) -> float:
        return self.job_seconds / 4

    @property
    def cancel_seconds(self) -> float:
        return min(1.0, self.job_seconds / 4)
