"""Which remote resource belongs to a task instance, and what a retry, a clear or changed
inputs do with it: the one place these rules live (the operators only ask).

Airflow clears a task's XComs at the start of every try, so a new try cannot read back the
id an earlier try stored: it finds its resource again from what the service lists.

============ ====================== ====================== ===================== ===================
resource     retry (same run)       clear (new generation) changed inputs        succeeded earlier
============ ====================== ====================== ===================== ===================
fine-tune    reattach to the job    reattach to a job in   new fingerprint:      this generation:
             in progress            progress (no second    a new job             finished and
                                    bill)                                        announced; earlier:
                                                                                 reused quietly
                                                                                 (``reuse="never"``:
                                                                                 a new job)
export       wait on the export     a published checkpoint another checkpoint:   returned quietly,
             under way (PENDING     is returned quietly    its own export; a     whoever published
             under the asked name,                         new ``model_name``    it (an earlier run,
             PROCESSING, or the                            for a published one:  or the service
             service answers                               the published id      itself: the final
             "already exported");                          (exported once)       checkpoint is the
             a FAILED one is                                                     job's output)
             exported again
deployment   wait on it (PENDING,   RUNNING: reused        another model: a new  reused quietly;
             UPDATING; STOPPED or   quietly                suffix, a new         STOPPED or FAILED
             FAILED fail the task)                         deployment; plan or   fail the task (its
                                                           capacity: kept as it  suffix is taken)
                                                           is (scale it)
============ ====================== ====================== ===================== ===================

How each is recognised:

* **fine-tune job**: its name,
  ``{prefix}-{dag 6 hex}-{task 10 hex}-{inputs 8 hex}-c{generation}`` (e.g.
  ``airflow-5d41a2-3f2a9c01de-7b1e44c0-c0``): the DAG (so a task can find its DAG's jobs
  without Airflow's database: :func:`job_owner`), the task instance (dag, task, run, map index),
  a fingerprint of :func:`fine_tune_inputs`, and the run's clear generation
  (``dag_run.clear_number``: retries keep it, clears bump it). A FAILED or CANCELED job is
  never picked up again: a retry exists to try once more.
* **export**: the job id and the checkpoint; the id it is published under is read back from
  the checkpoint list, and whether the service published it itself from the job's
  ``finetuned_output`` (the pages name exported models differently: nothing is assumed).
* **deployment**: the model and a suffix of 8 hex digits derived from the task instance and
  the model (or the user's ``suffix``), plus its ``name`` when one is given.
* **deployment of a serving slot**: its suffix names the slot, the task instance and the
  model (``operators/promotion_slot.py``, where the slot's holder is decided).

Superseded: a task instance's job in progress for other inputs (:func:`superseded_jobs`),
and its deployment of another model (:func:`superseded_deployments`), are what a clear with
changed inputs leaves behind: the operators cancel or remove them. Which stored file or
model lineage already holds some data, by content, is ``operators/content.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from airflow_dashscope.exceptions import InvalidRequestError
from airflow_dashscope.waiting import classify_deployment

if TYPE_CHECKING:  # annotations only: DAG files parse without the pydantic models
    from airflow_dashscope.client.models import Checkpoint, Deployment, FineTuneJob

#: ``reuse`` choices: reuse a SUCCEEDED job with identical inputs, or always train again.
Reuse = Literal["identical", "never"]
REUSE_CHOICES: tuple[str, ...] = ("identical", "never")
#: Job statuses a retry or a clear reattaches to.
IN_PROGRESS = frozenset({"PENDING", "QUEUING", "RUNNING"})
#: Checkpoint statuses that ask for an export (PENDING: not exported yet; FAILED: again).
NOT_EXPORTED = frozenset({"PENDING", "FAILED"})
#: The service's limit on a deployment suffix.
MAX_SUFFIX = 8

Action = Literal["create", "reattach", "finish", "reuse"]


@dataclass(frozen=True)
class Match:
    """What to do with a task's remote resource: ``create`` it, ``reattach`` (wait on it),
    ``finish`` (it succeeded for this attempt: announce it) or ``reuse`` (it succeeded for
    an earlier one: return it quietly). ``why`` is the log line saying what was found."""

    action: Action
    found: Any = None
    why: str = ""

    @property
    def reused(self) -> bool:
        """Returned as ``"reused": True``, and announced by no asset event."""
        return self.action == "reuse"


# --- the task instance ----------------------------------------------------------------------


def instance_digest(dag_id: str, task_id: str, run_id: str, map_index: int | None = -1) -> str:
    """10 hex digits, the same for every try and every clear of one task instance (also how
    the UI matches a remote job to the task instance that made it)."""
    index = -1 if map_index is None else map_index
    return hashlib.sha256(f"{dag_id}|{task_id}|{run_id}|{index}".encode()).hexdigest()[:10]


def task_instance_digest(context: Mapping[str, Any]) -> str:
    """:func:`instance_digest` of the context's task instance."""
    ti = context["ti"]
    return instance_digest(ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", -1))


def dag_digest(dag_id: str) -> str:
    """6 hex digits of the DAG id: lets a task (which cannot query Airflow's database) tell
    its own DAG's jobs apart from everyone else's by their names alone."""
    return hashlib.sha256(dag_id.encode()).hexdigest()[:6]


def fingerprint(inputs: Mapping[str, Any], size: int = 8) -> str:
    """Hex digest of ``inputs`` as canonical JSON (key order and list vs tuple do not matter)."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def clear_generation(context: Mapping[str, Any]) -> int:
    """How many times the run was cleared (0 for a fresh run): retries keep it, clears bump it."""
    dag_run = context.get("dag_run")
    return int(getattr(dag_run, "clear_number", 0) or 0)


def renamed(what: str, asked: str | None, named: str | None) -> str | None:
    """The log line for an id the service chose instead of the one asked for (else None)."""
    if not asked or not named or asked == named:
        return None
    return f"{what}: asked for {asked}, the service named it {named} (the id to use from here)."


# --- fine-tune jobs -------------------------------------------------------------------------


def check_reuse(reuse: str) -> None:
    if reuse not in REUSE_CHOICES:
        raise InvalidRequestError(
            f"Set reuse to one of {', '.join(REUSE_CHOICES)} (got {reuse!r})."
        )


def fine_tune_inputs(
    *,
    model: str,
    training_type: str,
    training_file_ids: Sequence[str],
    validation_file_ids: Sequence[str],
    hyper_parameters: Mapping[str, Any] | None,
    model_name: str | None,
) -> dict[str, Any]:
    """What a job is asked to do: a change in any of these is a new job, not the old one."""
    return {
        "model": model,
        "training_type": training_type,
        "training_file_ids": list(training_file_ids),
        "validation_file_ids": list(validation_file_ids),
        "hyper_parameters": dict(hyper_parameters or {}),
        "model_name": model_name,
    }


@dataclass(frozen=True)
class JobIdentity:
    """The name stem shared by every generation, and this generation's full name.

    ``legacy_stem`` is the form without the DAG digest that releases before 0.2 named jobs
    with: a retry or a clear after an upgrade still finds (and does not pay again for) a job
    an older release started.
    """

    stem: str
    generation: int
    legacy_stem: str | None = None

    @classmethod
    def of(
        cls, context: Mapping[str, Any], prefix: str | None, inputs: Mapping[str, Any]
    ) -> JobIdentity:
        head = prefix or "airflow"
        tail = f"{task_instance_digest(context)}-{fingerprint(inputs)}"
        dag = dag_digest(context["ti"].dag_id)
        return cls(f"{head}-{dag}-{tail}", clear_generation(context), f"{head}-{tail}")

    @property
    def name(self) -> str:
        return f"{self.stem}-c{self.generation}"

    def generation_of(self, job_name: str | None) -> int | None:
        """The generation a job of this identity was created in; None if it is not ours."""
        for stem in (self.stem, self.legacy_stem):
            if stem and job_name and job_name.startswith(f"{stem}-c"):
                tail = job_name[len(stem) + 2 :]
                return int(tail) if tail.isdigit() else None
        return None


_OWNED_NAME = re.compile(
    r"-(?P<dag>[0-9a-f]{6})-(?P<instance>[0-9a-f]{10})-(?P<inputs>[0-9a-f]{8})-c(?P<gen>\d+)$"
)


@dataclass(frozen=True)
class JobOwner:
    """Who made a job, read from its name: the DAG's and the task instance's digests, the
    inputs' fingerprint and the clear generation (see :class:`JobIdentity`)."""

    dag: str
    instance: str
    inputs: str
    generation: int

    def of_dag(self, dag_id: str) -> bool:
        return self.dag == dag_digest(dag_id)


def job_owner(job_name: str | None) -> JobOwner | None:
    """The owner of a job this provider named; None for any other job (the console's, another
    tool's, or one named by a release before the DAG digest)."""
    match = _OWNED_NAME.search(job_name or "")
    if match is None:
        return None
    return JobOwner(match["dag"], match["instance"], match["inputs"], int(match["gen"]))


def match_job(identity: JobIdentity, jobs: Iterable[FineTuneJob], reuse: str) -> Match:
    """Which listed job (``job_name``, ``status_name``) is this task's, and what to do.

    A running job with these inputs is always reattached, whichever generation started it:
    a cleared deferred task must not pay for a second job.
    """
    ours = [(identity.generation_of(job.job_name), job) for job in jobs]
    mine = sorted(
        ((gen, job) for gen, job in ours if gen is not None),
        key=lambda pair: str(pair[1].job_id),
        reverse=True,
    )
    for _, job in mine:
        if job.status_name in IN_PROGRESS:
            why = f"Reattaching to job {job.job_id} of this task with the same inputs"
            return Match("reattach", job, f"{why} ({job.status_name}).")
    for gen, job in mine:
        if job.status_name != "SUCCEEDED":
            continue
        if gen == identity.generation:
            why = f"Job {job.job_id} of this task (this run) already ended {job.status_name}."
            return Match("finish", job, why)
        if reuse != "never":
            return Match(
                "reuse",
                job,
                f"Reusing job {job.job_id} ({job.status_name}): an earlier run of this task "
                "trained it with identical inputs. Its model is not announced again; "
                'reuse="never" trains anew.',
            )
    return Match("create")


def superseded_jobs(identity: JobIdentity, jobs: Iterable[FineTuneJob]) -> list[FineTuneJob]:
    """Jobs in progress of this task instance (same DAG and instance digests) for other
    inputs: a clear with changed data replaces them, so nobody would wait for (or use) them."""
    me = job_owner(identity.name)
    if me is None:
        return []
    return [
        job
        for job in jobs
        if job.status_name in IN_PROGRESS
        and (owner := job_owner(job.job_name)) is not None
        and (owner.dag, owner.instance) == (me.dag, me.instance)
        and owner.inputs != me.inputs
    ]


# --- exports --------------------------------------------------------------------------------


def match_export(
    checkpoint: Checkpoint, *, job_id: str, asked: str, job_output: Callable[[], str | None]
) -> Match:
    """What to do with the export of ``checkpoint`` asked as model ``asked``.

    ``job_output`` reads the job's ``finetuned_output`` back from the service; it is called
    only for a published checkpoint, to tell the service's own publication of the final
    checkpoint (nothing was exported) from an earlier export.
    """
    where = f"{checkpoint.checkpoint} of job {job_id}"
    status, name = checkpoint.status_name, checkpoint.model_name
    if status == "SUCCEEDED":
        if name and name == job_output():
            return Match(
                "reuse",
                checkpoint,
                f"{where} is the job's final checkpoint, which the service published itself "
                f"as {name} (the job's finetuned_output) when the job succeeded: nothing to "
                "export.",
            )
        return Match(
            "reuse",
            checkpoint,
            f"{where} was exported earlier as {name}: returning it (not announced again).",
        )
    if status == "FAILED" or (status in NOT_EXPORTED and name != asked):
        return Match("create", checkpoint)
    return Match(
        "reattach",
        checkpoint,
        f"{where} is being exported already ({status}, as {name}): waiting on that export.",
    )


# --- deployments ----------------------------------------------------------------------------


def deployment_suffix(context: Mapping[str, Any], model_name: str, suffix: str | None) -> str:
    """The user's suffix, else 8 hex digits of the task instance and the model: a model may
    be deployed by several tasks, and every deployment after the first needs its own."""
    if suffix:
        return suffix
    return derived_suffix(task_instance_digest(context), model_name)


def derived_suffix(instance: str, model_name: str) -> str:
    """The suffix a task instance (its digest) gives its deployment of ``model_name``."""
    return fingerprint({"task": instance, "model": model_name}, MAX_SUFFIX)


def superseded_deployments(
    deployments: Iterable[Deployment], *, instance: str, model_name: str
) -> list[Deployment]:
    """The task instance's live deployments of other models (their derived suffix names
    it): a clear that deploys a changed model replaces them. A user's ``suffix`` names no
    task instance, so nothing is recognised then."""
    return [
        deployment
        for deployment in deployments
        if deployment.model_name
        and deployment.model_name != model_name
        and deployment.status_name != "DELETING"
        and deployment.deployed_model.endswith(
            f"-{derived_suffix(instance, deployment.model_name)}"
        )
    ]


def task_deployment(
    deployments: Iterable[Deployment], model_name: str, *, suffix: str, name: str | None
) -> Deployment | None:
    """The task's live deployment of ``model_name`` (its suffix, and its name if given)."""
    for deployment in deployments:
        if (
            deployment.model_name == model_name
            and deployment.status_name != "DELETING"
            and deployment.deployed_model.endswith(f"-{suffix}")
            and (name is None or deployment.name in (None, name))
        ):
            return deployment
    return None


def match_deployment(existing: Deployment | None) -> Match:
    """Create when the task has none; reuse one that serves; wait on any other (the wait
    fails the task for a STOPPED or FAILED one)."""
    if existing is None:
        return Match("create")
    where = f"deployment {existing.deployed_model} of this task ({existing.status_name})"
    if classify_deployment(existing) == "success":
        return Match("reuse", existing, f"Reusing {where}: not announced again.")
    return Match("reattach", existing, f"Waiting on {where}.")
