"""Records, tables with a status index, one lock, and per-record persistence.

Persistence cannot be forgotten: a record attached to a :class:`Table` marks itself dirty
whenever one of its attributes is assigned (containers are replaced, never mutated in place,
or changed through a record method that calls :meth:`Record.touch`), and
:meth:`Store.flush` — called once when every emulator session ends — writes only the dirty
records, one small JSON file each, under ``--state-dir``. Creating the 1,000th job writes one
file, not the whole state; the clock moving writes nothing. Without a state dir nothing is
written at all (uploaded file contents still go to a temporary directory).

The status index lets the state machines touch only the records in progress, so the cost of a
request does not grow with the number of finished jobs or deployments.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Generic, TypeVar

USER_IDENTITY = "1654290265984853"
_MISSING = object()


class Record:
    """Base of the persisted records: assignments mark the record dirty in its table."""

    def __setattr__(self, name: str, value: Any) -> None:
        table: Table[Any] | None = self.__dict__.get("_table")
        old = self.__dict__.get(name, _MISSING)
        object.__setattr__(self, name, value)
        if table is not None:
            table.changed(self, name, old)

    def touch(self) -> None:
        """Mark dirty after an in-place change of a container attribute."""
        table: Table[Any] | None = self.__dict__.get("_table")
        if table is not None:
            table.changed(self, "", None)


@dataclass
class FileRecord(Record):
    file_id: str
    numeric_id: int
    region: str
    workspace_id: str
    name: str
    description: str
    purpose: str
    size: int
    md5: str
    created_at: float
    lines: int
    api_key_id: str


@dataclass
class ExportRecord:
    model_name: str
    published_as: str
    requested_at: float
    fail: list[str] | None = None
    failed_at: float | None = None


@dataclass
class CheckpointRecord:
    step: int
    created_at: float
    checkpoint_id: str


@dataclass
class JobRecord(Record):
    job_id: str
    region: str
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
    #: The model id published when the job SUCCEEDS (absent from the job object before).
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
    #: Training examples (lines of the training files): the data size the curves use.
    train_examples: int = 0
    #: Preset data mixed in (``data_augmentation``), billed like training data.
    mixed_tokens: int = 0
    #: The job whose model this one continues (its lineage's knowledge is inherited).
    parent_job_id: str | None = None
    status: str = "PENDING"
    queued_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    cancel_requested_at: float | None = None
    fail_on_start: list[str] | None = None
    fail_at_end: list[str] | None = None
    code: str | None = None
    message: str | None = None
    step_done: int = 0
    logs: list[str] = field(default_factory=list)
    checkpoints: list[CheckpointRecord] = field(default_factory=list)
    exports: dict[str, ExportRecord] = field(default_factory=dict)
    #: checkpoint name -> [code, message] for the next export of it (control API).
    export_faults: dict[str, list[str]] = field(default_factory=dict)
    lora: dict[str, Any] = field(default_factory=dict)
    #: [prompt, answer] pairs the model knows: the parent's from creation, its own added when
    #: the job succeeds (``learning.learn``).
    learned: list[list[str]] = field(default_factory=list)
    #: Share of known prompts answered badly, and whether badly means corrupted (unstable lr).
    answer_miss: float = 0.0
    answers_corrupted: bool = False

    def log(self, line: str) -> None:
        self.logs.append(line)
        self.touch()


@dataclass
class DeploymentRecord(Record):
    deployed_model: str
    region: str
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


R = TypeVar("R", bound=Record)


class Table(Generic[R]):
    """Records by key, with an index on ``status`` and the keys changed since the last flush."""

    def __init__(self, name: str, record: type[R], key: str, indexed: bool = True) -> None:
        self.name = name
        self.record = record
        self.key = key
        self.indexed = indexed
        self.rows: dict[str, R] = {}
        self.by_status: dict[str, dict[str, None]] = {}
        self.dirty: set[str] = set()
        self.removed: set[str] = set()

    def _key(self, record: R) -> str:
        return str(getattr(record, self.key))

    def _index(self, key: str, old: Any, new: Any) -> None:
        if not self.indexed:
            return
        if old is not _MISSING and old is not None:
            self.by_status.get(old, {}).pop(key, None)
        if new is not None:
            self.by_status.setdefault(new, {})[key] = None

    def add(self, record: R) -> R:
        key = self._key(record)
        self.rows[key] = record
        object.__setattr__(record, "_table", self)
        self._index(key, None, getattr(record, "status", None))
        self.dirty.add(key)
        self.removed.discard(key)
        return record

    def remove(self, key: str) -> None:
        record = self.rows.pop(key)
        object.__setattr__(record, "_table", None)
        self._index(key, getattr(record, "status", None), None)
        self.dirty.discard(key)
        self.removed.add(key)

    def changed(self, record: R, name: str, old: Any) -> None:
        key = self._key(record)
        self.dirty.add(key)
        if name == "status" and old != vars(record).get("status"):
            self._index(key, old, vars(record).get("status"))

    def get(self, key: str) -> R | None:
        return self.rows.get(key)

    def with_status(self, *statuses: str) -> list[R]:
        return [self.rows[k] for s in statuses for k in self.by_status.get(s, {})]

    def count(self, *statuses: str) -> int:
        return sum(len(self.by_status.get(s, {})) for s in statuses)

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def __iter__(self) -> Iterator[R]:
        return iter(list(self.rows.values()))

    def __len__(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.removed.update(self.rows)
        self.rows.clear()
        self.by_status.clear()
        self.dirty.clear()


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

    def __init__(self, state_dir: Path, persistent: bool) -> None:
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.persistent = persistent
        self.files_dir = state_dir / "files"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.files: Table[FileRecord] = Table("file_records", FileRecord, "file_id", False)
        self.jobs: Table[JobRecord] = Table("jobs", JobRecord, "job_id")
        self.deployments: Table[DeploymentRecord] = Table(
            "deployments", DeploymentRecord, "deployed_model"
        )
        self.seq = 0
        self.file_seq = 1000
        self.slot_holder: str | None = None
        self.slot_freed_at = 0.0
        self.clock_offset = 0.0
        self.meta_dirty = False
        #: Published model id -> job id (job outputs and exported checkpoints).
        self.models: dict[str, str] = {}
        #: Scheduling heaps owned by ``jobs.py`` (rebuilt from the records on load).
        self.job_events: list[tuple[float, int, int, str, str]] = []
        self.job_queue: list[tuple[int, str]] = []
        #: Process-lifetime caches, never persisted: file digests (``datasets``) and the
        #: n-gram index of each model's pairs (``recall``). File contents never change.
        self.digests: dict[str, Any] = {}
        self.recall: dict[str, Any] = {}

    @property
    def tables(self) -> tuple[Table[Any], ...]:
        return (self.files, self.jobs, self.deployments)

    def file_path(self, file_id: str) -> Path:
        return self.files_dir / file_id

    def next_seq(self) -> int:
        self.seq += 1
        self.meta_dirty = True
        return self.seq

    def next_file_number(self) -> int:
        self.file_seq += 1
        self.meta_dirty = True
        return self.file_seq

    # -- persistence ----------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "file_seq": self.file_seq,
            "slot_holder": self.slot_holder,
            "slot_freed_at": self.slot_freed_at,
            "clock_offset": self.clock_offset,
        }

    def flush(self) -> None:
        """Write what changed since the last flush (nothing without a state dir)."""
        with self.lock:
            if not self.persistent:
                for table in self.tables:
                    table.dirty.clear()
                    table.removed.clear()
                self.meta_dirty = False
                return
            wrote = False
            for table in self.tables:
                folder = self.state_dir / table.name
                for key in table.removed:
                    with contextlib.suppress(FileNotFoundError):
                        (folder / f"{key}.json").unlink()
                for key in table.dirty:
                    folder.mkdir(exist_ok=True)
                    _write_json(folder / f"{key}.json", asdict(table.rows[key]))
                wrote = wrote or bool(table.dirty or table.removed)
                table.dirty.clear()
                table.removed.clear()
            if wrote or self.meta_dirty:
                _write_json(self.state_dir / "meta.json", self._meta())
                self.meta_dirty = False

    def load(self) -> bool:
        """Read the records of an earlier run; returns whether there were any."""
        meta_file = self.state_dir / "meta.json"
        if not meta_file.exists():
            return False
        meta = json.loads(meta_file.read_text("utf-8"))
        self.seq = int(meta.get("seq", 0))
        self.file_seq = int(meta.get("file_seq", 1000))
        self.slot_holder = meta.get("slot_holder")
        self.slot_freed_at = float(meta.get("slot_freed_at", 0.0))
        self.clock_offset = float(meta.get("clock_offset", 0.0))
        loaders: dict[str, Any] = {
            "file_records": lambda d: _load(FileRecord, d),
            "jobs": _load_job,
            "deployments": lambda d: _load(DeploymentRecord, d),
        }
        for table in self.tables:
            folder = self.state_dir / table.name
            for path in sorted(folder.glob("*.json")) if folder.exists() else []:
                table.add(loaders[table.name](json.loads(path.read_text("utf-8"))))
            table.dirty.clear()
        return True

    def clear(self) -> None:
        """Forget everything, including uploaded file contents."""
        with self.lock:
            for record in self.files:
                with contextlib.suppress(FileNotFoundError):
                    self.file_path(record.file_id).unlink()
            for table in self.tables:
                table.clear()
            self.seq = 0
            self.file_seq = 1000
            self.slot_holder = None
            self.slot_freed_at = 0.0
            self.models.clear()
            self.job_events.clear()
            self.job_queue.clear()
            self.digests.clear()
            self.recall.clear()
            self.meta_dirty = True
            self.flush()


def _write_json(path: Path, data: Any) -> None:
    """Temp file + rename: a crash never leaves half a record."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), "utf-8")
    os.replace(tmp, path)
