"""Which task instance made each remote job, deployment and file, and which ones nobody waits on.

Pure (no I/O): the caller reads the service's lists and the metadata DB's task instances;
this module matches them in memory. The naming rules are :mod:`airflow_dashscope.operators.
identity`'s; this module only reads them back:

* a **job** by its name (:func:`~airflow_dashscope.operators.identity.job_owner`: the DAG's and
  the task instance's digests), else by the job id its task recorded (jobs named by releases
  before the DAG digest);
* a **deployment** by the deploy task that recorded it or whose suffix it carries
  (:func:`~airflow_dashscope.operators.identity.deployment_suffix`), else by the model it
  serves: a job's ``finetuned_output``, or a checkpoint an export task published;
* a **file** by the jobs that trained on it.

A job whose name carries the digest of no DAG here (the console's, another tool's, another
Airflow's) is "not from this Airflow".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_dashscope.operators.identity import (
    IN_PROGRESS,
    dag_digest,
    deployment_suffix,
    instance_digest,
    job_owner,
)
from airflow_dashscope.plugins.records import TaskRecord

if TYPE_CHECKING:
    from airflow_dashscope.client.models import Deployment, FineTuneJob

#: Task-instance states in which a task waits on its job, or is about to (a queued or
#: scheduled try, or a retry, reattaches to the job in progress: ``identity.match_job``).
WAITING_STATES = frozenset(
    {
        "running",
        "deferred",
        "queued",
        "scheduled",
        "up_for_retry",
        "up_for_reschedule",
        "restarting",
    }
)
NOT_FROM_HERE = "not from this Airflow"
NO_WAITER = "In progress, and no task waits on it"


@dataclass(frozen=True)
class Owner:
    """The DAG that made a resource and, when Airflow still has it, the task instance.

    ``how`` says how it was found (shown on the page, so a match can be checked by eye)."""

    dag_id: str
    record: TaskRecord | None
    how: str


@dataclass
class JobMatch:
    job: FineTuneJob
    owner: Owner | None
    flags: list[str] = field(default_factory=list)


class OwnerIndex:
    """The task instances of this Airflow, indexed the ways remote resources name them."""

    def __init__(self, dag_ids: Iterable[str], records: Iterable[TaskRecord]) -> None:
        self._dags: dict[str, list[str]] = {}
        for dag_id in sorted(dag_ids):
            self._dags.setdefault(dag_digest(dag_id), []).append(dag_id)
        self.records = list(records)
        self._instances = {
            (dag_digest(r.dag_id), instance_digest(r.dag_id, r.task_id, r.run_id, r.map_index)): r
            for r in self.records
            if r.kind == "fine_tune"
        }
        self._recorded = {(r.kind, r.remote_id): r for r in self.records if r.remote_id}
        self._deploy_tasks = [r for r in self.records if r.kind == "deployment"]
        #: Models the export tasks published, to the job they came from.
        self._exported = {
            str(r.result["model_name"]): str(r.result["job_id"])
            for r in self.records
            if r.kind == "export" and r.result.get("model_name") and r.result.get("job_id")
        }

    def job(self, job: FineTuneJob) -> Owner | None:
        named = job_owner(job.job_name)
        if named is not None:
            record = self._instances.get((named.dag, named.instance))
            if record is not None:
                return Owner(record.dag_id, record, "job name")
            dags = self._dags.get(named.dag, [])
            if len(dags) == 1:  # the DAG is here, its run is not (deleted, or a DB reset)
                return Owner(dags[0], None, "job name (its run is no longer in Airflow)")
        record = self._recorded.get(("fine_tune", job.job_id))
        if record is not None:
            return Owner(record.dag_id, record, "job id recorded by the task")
        return None

    def deployment(
        self, deployment: Deployment, job_owners: dict[str, tuple[FineTuneJob, Owner | None]]
    ) -> Owner | None:
        """``job_owners``: each job's owner, by the models the job published."""
        deployed = deployment.deployed_model
        record = self._recorded.get(("deployment", deployed))
        if record is None and deployment.model_name:
            record = next(
                (r for r in self._deploy_tasks if deployed.endswith(f"-{_suffix(r, deployment)}")),
                None,
            )
        if record is not None:
            return Owner(record.dag_id, record, "deploy task")
        model = deployment.model_name or ""
        found = job_owners.get(model)
        if found is None and model in self._exported:
            found = next(
                (v for v in job_owners.values() if v[0].job_id == self._exported[model]), None
            )
        if found is not None and found[1] is not None:
            return Owner(found[1].dag_id, found[1].record, f"serves job {found[0].job_id}'s model")
        return None


def _suffix(record: TaskRecord, deployment: Deployment) -> str:
    """The suffix ``record``'s deploy task gives a deployment of this model by default."""
    return deployment_suffix({"ti": record}, deployment.model_name or "", None)


def match_jobs(jobs: Sequence[FineTuneJob], index: OwnerIndex) -> list[JobMatch]:
    """Each job with its owner and what is wrong with it: a job in progress no task waits on
    (its task instance ended, or started a newer job) keeps training for nothing.

    ``jobs`` in the service's order, newest first: of two jobs of one task instance, the newer
    is the later clear generation, else the later ``create_time``, else the one listed first
    (the service's times are to the second)."""
    matches = [JobMatch(job, index.job(job)) for job in jobs]
    newest: dict[tuple[str, str, str, int], tuple[tuple[int, str, int], JobMatch]] = {}
    for position, match in enumerate(matches):
        key = _instance_key(match)
        if key is None:
            continue
        named = job_owner(match.job.job_name)
        created = match.job.create_time
        age = (named.generation if named else -1, created.isoformat() if created else "", -position)
        if key not in newest or age > newest[key][0]:
            newest[key] = (age, match)
    for match in matches:
        if match.job.status_name not in IN_PROGRESS or match.owner is None:
            continue
        record = match.owner.record
        key = _instance_key(match)
        latest = newest[key][1] if key is not None else match
        if latest is not match:
            match.flags.append(f"{NO_WAITER}: its task instance started {latest.job.job_id}.")
        elif record is None:
            match.flags.append(f"{NO_WAITER}: its task instance is no longer in Airflow.")
        elif (record.state or "") not in WAITING_STATES:
            state = record.state or "not started"
            match.flags.append(f"{NO_WAITER}: {record.task_id} is {state}.")
    return matches


def _instance_key(match: JobMatch) -> tuple[str, str, str, int] | None:
    record = match.owner.record if match.owner else None
    if record is None:
        return None
    return (record.dag_id, record.run_id, record.task_id, record.map_index)


def published_models(matches: Iterable[JobMatch]) -> dict[str, tuple[FineTuneJob, Owner | None]]:
    """Each job's ``finetuned_output``, to the job and its owner."""
    return {m.job.finetuned_output: (m.job, m.owner) for m in matches if m.job.finetuned_output}


def deployment_flags(deployment: Deployment, owner: Owner | None) -> list[str]:
    if deployment.status_name == "RUNNING" and owner is None:
        return ["Running (billed by the hour), and no DAG here owns it."]
    return []


def file_users(file_id: str, matches: Iterable[JobMatch]) -> list[JobMatch]:
    """The jobs that trained or validated on ``file_id``."""
    return [
        m
        for m in matches
        if file_id in m.job.training_file_ids or file_id in m.job.validation_file_ids
    ]
