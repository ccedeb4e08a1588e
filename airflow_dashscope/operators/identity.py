"""Which remote resource belongs to a task: the task instance plus what it is asked to do.

Airflow clears a task's XComs at the start of every try, so a new try cannot read back the
id an earlier try stored. What it can do is name its remote job deterministically and find
it again. The name carries three things:

* the **task instance** (dag, task, run, map index): two tasks never share a job;
* a **fingerprint of the inputs** (model, training type, file ids, hyperparameters, model
  name): a cleared run whose upstream produced new data, or a re-parameterised run, gets a
  new job instead of the old one;
* the run's **clear generation** (``dag_run.clear_number``): a job from this generation is
  this attempt's own (a retry after a crash finishes it and announces its model); a job from
  an earlier generation with identical inputs was already announced, so it is reused quietly.

``{prefix}-{task 10 hex}-{inputs 8 hex}-c{generation}``, e.g. ``airflow-3f2a9c01de-7b1e44c0-c0``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

#: ``reuse`` choices: reuse a SUCCEEDED job with identical inputs, or always train again.
Reuse = Literal["identical", "never"]
REUSE_CHOICES: tuple[str, ...] = ("identical", "never")
IN_PROGRESS = frozenset({"PENDING", "QUEUING", "RUNNING"})


def task_instance_digest(context: Mapping[str, Any]) -> str:
    """10 hex digits, the same for every try and every clear of one task instance."""
    ti = context["ti"]
    key = f"{ti.dag_id}|{ti.task_id}|{ti.run_id}|{getattr(ti, 'map_index', -1)}"
    return hashlib.sha256(key.encode()).hexdigest()[:10]


def fingerprint(inputs: Mapping[str, Any], size: int = 8) -> str:
    """Hex digest of ``inputs`` as canonical JSON (key order and list vs tuple do not matter)."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def clear_generation(context: Mapping[str, Any]) -> int:
    """How many times the run was cleared (0 for a fresh run): retries keep it, clears bump it."""
    dag_run = context.get("dag_run")
    return int(getattr(dag_run, "clear_number", 0) or 0)


@dataclass(frozen=True)
class JobIdentity:
    """The name stem shared by every generation, and this generation's full name."""

    stem: str
    generation: int

    @classmethod
    def of(
        cls, context: Mapping[str, Any], prefix: str | None, inputs: Mapping[str, Any]
    ) -> JobIdentity:
        stem = f"{prefix or 'airflow'}-{task_instance_digest(context)}-{fingerprint(inputs)}"
        return cls(stem, clear_generation(context))

    @property
    def name(self) -> str:
        return f"{self.stem}-c{self.generation}"

    def generation_of(self, job_name: str | None) -> int | None:
        """The generation a job of this identity was created in; None if it is not ours."""
        if not job_name or not job_name.startswith(f"{self.stem}-c"):
            return None
        tail = job_name[len(self.stem) + 2 :]
        return int(tail) if tail.isdigit() else None


@dataclass(frozen=True)
class Match:
    """What to do with this task's remote job: ``reattach`` (wait on it), ``finish`` (it
    succeeded in this generation: announce it), ``reuse`` (it succeeded in an earlier
    generation: return it quietly) or ``create``."""

    action: Literal["reattach", "finish", "reuse", "create"]
    job: Any = None


def match_job(identity: JobIdentity, jobs: Iterable[Any], reuse: str) -> Match:
    """Decide from the listed jobs (``job_name``, ``status_name``) which one is ours, if any.

    A running job with these inputs is always reattached, whichever generation started it:
    a cleared deferred task must not pay for a second job. A FAILED or CANCELED one is never
    picked up again (a retry exists to try once more).
    """
    ours = [(identity.generation_of(job.job_name), job) for job in jobs]
    ours = [(gen, job) for gen, job in ours if gen is not None]
    ours.sort(key=lambda pair: str(pair[1].job_id), reverse=True)
    for _, job in ours:
        if job.status_name in IN_PROGRESS:
            return Match("reattach", job)
    for gen, job in ours:
        if job.status_name != "SUCCEEDED":
            continue
        if gen == identity.generation:
            return Match("finish", job)
        if reuse != "never":
            return Match("reuse", job)
    return Match("create")
