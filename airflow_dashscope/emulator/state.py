"""In-memory records, one lock, and JSON persistence under ``--state-dir``.

Records are plain dataclasses holding only JSON-native values so that the whole store is one
``json.dump`` away from disk. Everything derived from time (job phases, logs, checkpoints,
deployment phases) is recomputed from these records and the clock by ``jobs.py`` /
``deployments.py``, so a restart with the same state dir continues where it left off.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_WORKSPACE = "llm-8v53etv3hwb8orx1"
USER_IDENTITY = "1654290265984853"


@dataclass
class FileRecord:
    file_id: str
    workspace_id: str
    name: str
    description: str
    purpose: str
    size: int
    md5: str
    created_at: float
    lines: int


@dataclass
class ExportRecord:
    model_name: str
    requested_at: float


@dataclass
class CheckpointRecord:
    step: int
    created_at: float
    checkpoint_id: str


@dataclass
class JobRecord:
    job_id: str
    workspace_id: str
    seq: int
    model: str
    base_model: str
    training_type: str
    training_file_ids: list[str]
    validation_file_ids: list[str]
    hyper_parameters: dict[str, Any]
    job_name: str
    model_name: str | None
    finetuned_output: str
    created_at: float
    pending_until: float
    run_seconds: float
    total_steps: int
    steps_per_epoch: int
    n_epochs: int
    logging_steps: int
    checkpoint_steps: list[int]
    save_total_limit: int | None
    train_tokens: int
    status: str = "PENDING"
    queued_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    cancel_requested_at: float | None = None
    held_slot: bool = False
    #: Set at create when the job is bound to fail after validation (unsupported type...).
    fail_on_start: list[str] | None = None
    #: Set by the control API: fail instead of succeeding at the end of the run.
    fail_at_end: list[str] | None = None
    code: str | None = None
    message: str | None = None
    step_done: int = 0
    logs: list[str] = field(default_factory=list)
    checkpoints: list[CheckpointRecord] = field(default_factory=list)
    exports: dict[str, ExportRecord] = field(default_factory=dict)
    lora: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeploymentRecord:
    deployed_model: str
    workspace_id: str
    model_name: str
    base_model: str
    name: str
    plan: str
    capacity: int
    ready_capacity: int
    base_capacity: int
    charge_type: str
    created_at: float
    modified_at: float
    status: str
    op: str | None
    op_started: float
    extra: dict[str, Any] = field(default_factory=dict)


T = TypeVar("T")


def _load(cls: type[T], data: dict[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


def _load_job(data: dict[str, Any]) -> JobRecord:
    job = _load(JobRecord, data)
    job.checkpoints = [_load(CheckpointRecord, c) for c in data.get("checkpoints", [])]
    job.exports = {k: _load(ExportRecord, v) for k, v in data.get("exports", {}).items()}
    return job


class Store:
    """All emulator state. Callers hold :attr:`lock` around read-modify-write sequences."""

    def __init__(self, state_dir: Path) -> None:
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.files_dir = state_dir / "files"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, FileRecord] = {}
        self.jobs: dict[str, JobRecord] = {}
        self.deployments: dict[str, DeploymentRecord] = {}
        self.seq = 0
        self.slot_freed_at = 0.0
        self.clock_offset = 0.0
        self._state_file = state_dir / "state.json"

    def file_path(self, file_id: str) -> Path:
        return self.files_dir / file_id

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def load(self) -> bool:
        """Read ``state.json`` if present; returns whether anything was loaded."""
        if not self._state_file.exists():
            return False
        data = json.loads(self._state_file.read_text("utf-8"))
        self.files = {k: _load(FileRecord, v) for k, v in data.get("files", {}).items()}
        self.jobs = {k: _load_job(v) for k, v in data.get("jobs", {}).items()}
        self.deployments = {
            k: _load(DeploymentRecord, v) for k, v in data.get("deployments", {}).items()
        }
        self.seq = int(data.get("seq", 0))
        self.slot_freed_at = float(data.get("slot_freed_at", 0.0))
        self.clock_offset = float(data.get("clock_offset", 0.0))
        return True

    def save(self) -> None:
        """Write the state atomically (temp file + rename): a crash never leaves half a file."""
        with self.lock:
            data = {
                "files": {k: asdict(v) for k, v in self.files.items()},
                "jobs": {k: asdict(v) for k, v in self.jobs.items()},
                "deployments": {k: asdict(v) for k, v in self.deployments.items()},
                "seq": self.seq,
                "slot_freed_at": self.slot_freed_at,
                "clock_offset": self.clock_offset,
            }
            tmp = self._state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(data), "utf-8")
            os.replace(tmp, self._state_file)

    def clear(self) -> None:
        """Forget everything, including uploaded file contents."""
        with self.lock:
            for file_id in list(self.files):
                with contextlib.suppress(FileNotFoundError):
                    self.file_path(file_id).unlink()
            self.files.clear()
            self.jobs.clear()
            self.deployments.clear()
            self.seq = 0
            self.slot_freed_at = 0.0
            self.save()
