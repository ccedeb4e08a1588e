"""What a retention run deletes and keeps, decided from the service's lists alone (pure).

The account is read (jobs, files, deployments, each job's checkpoints), then every decision is
made here, so a dry run and a real run plan alike and a retry after a crash plans again from
what is left. The rules, in the order they protect:

* a deployment that is not being deleted (nor planned for deletion) keeps the job behind its
  model, whether it serves the job's ``finetuned_output`` or a checkpoint exported from it;
* a job is kept while its output is the ``model`` of a job in progress (the base it trains
  from), while a checkpoint of it is being exported, and when it is the newest SUCCEEDED job
  of a lineage that has been continued (jobs linked by ``model`` -> an earlier job's output:
  the next run continues from it);
* a job in progress is kept unless ``cancel_in_progress`` (then it is cancelled; a later run
  deletes it once ended);
* beyond these, the newest ``keep_models`` SUCCEEDED jobs of the scope are kept; older ones,
  and FAILED or CANCELED ones (they hold no model), are deleted;
* a file is deleted when it is older than ``files_older_than`` and no job that stays (any
  job of the account, in scope or not) trained or validates on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from airflow_dashscope.operators.identity import IN_PROGRESS, dag_digest, job_owner
from airflow_dashscope.operators.promotion_slot import slot_holder, slot_key

if TYPE_CHECKING:
    from airflow_dashscope.client.models import (
        Checkpoint,
        DashScopeFile,
        Deployment,
        FineTuneJob,
    )

Resource = Literal["deployment", "job", "file"]
Action = Literal["delete", "cancel", "keep"]
#: Job statuses that hold no model: deleting them loses nothing.
UNSUCCESSFUL = frozenset({"FAILED", "CANCELED"})


@dataclass(frozen=True)
class Decision:
    """One row of the plan: what happens to one remote resource, and why."""

    resource: Resource
    id: str
    owner: str
    age: timedelta | None
    action: Action
    why: str


@dataclass(frozen=True)
class Policy:
    """What a retention run keeps (the operator's arguments, checked)."""

    dag_ids: tuple[str, ...] = ()
    lineage_of: str | None = None
    keep_models: int | None = None
    files_older_than: timedelta | None = None
    delete_deployments: bool = False
    keep_deployments: frozenset[str] = frozenset()
    keep_newest_running: bool = False
    cancel_in_progress: bool = False


@dataclass
class Account:
    """The service's lists, as one run read them."""

    jobs: list[FineTuneJob]
    files: list[DashScopeFile]
    deployments: list[Deployment]
    #: Job id -> its checkpoints; None: they could not be read (the job is then kept).
    checkpoints: Mapping[str, Sequence[Checkpoint] | None] = field(default_factory=dict)


def age_of(created: datetime | None, now: datetime) -> timedelta | None:
    return None if created is None else now - created


def _newest_first(items: Iterable[Any], created: str, key: str) -> list[Any]:
    """Newest first by the ``created`` time, then by id (an unknown time counts as oldest)."""

    def order(item: Any) -> tuple[float, str]:
        when = getattr(item, created)
        return (when.timestamp() if when is not None else float("-inf"), str(getattr(item, key)))

    return sorted(items, key=order, reverse=True)


class Planner:
    """Plans one run: deployments first (a deployment to delete protects no job), then jobs
    (a job to delete keeps no file), then files."""

    def __init__(self, account: Account, policy: Policy, now: datetime) -> None:
        self.account, self.policy, self.now = account, policy, now
        self.producer = self._producers()
        self.parent = {
            job.job_id: self.producer[job.model]
            for job in account.jobs
            if job.model and job.model in self.producer
        }
        self.scope = self._scope()

    def _producers(self) -> dict[str, str]:
        """Model id -> the job that made it: its ``finetuned_output`` and exported checkpoints."""
        made: dict[str, str] = {}
        for job in self.account.jobs:
            for checkpoint in self.account.checkpoints.get(job.job_id) or ():
                if checkpoint.status_name == "SUCCEEDED" and checkpoint.model_name:
                    made[checkpoint.model_name] = job.job_id
            if job.finetuned_output:
                made[job.finetuned_output] = job.job_id
        return made

    def _lineage(self, job_id: str) -> set[str]:
        """Every job linked to ``job_id`` through ``model`` -> earlier output, both ways."""
        links: dict[str, set[str]] = {}
        for child, parent in self.parent.items():
            links.setdefault(child, set()).add(parent)
            links.setdefault(parent, set()).add(child)
        found, todo = {job_id}, [job_id]
        while todo:
            for linked in links.get(todo.pop(), ()):
                if linked not in found:
                    found.add(linked)
                    todo.append(linked)
        return found

    def _scope(self) -> set[str]:
        """The jobs the policy may delete: a lineage's, else those the DAGs named."""
        if self.policy.lineage_of:
            start = self.producer.get(self.policy.lineage_of, self.policy.lineage_of)
            known = {job.job_id for job in self.account.jobs}
            return self._lineage(start) if start in known else set()
        digests = {dag_digest(dag_id) for dag_id in self.policy.dag_ids}
        return {
            job.job_id
            for job in self.account.jobs
            if (owner := job_owner(job.job_name)) is not None and owner.dag in digests
        }

    def owner_of(self, job: FineTuneJob) -> str:
        owner = job_owner(job.job_name)
        return f"dag {owner.dag}" if owner else str(job.job_name or "-")

    # --- deployments ------------------------------------------------------------------------

    def deployments(self) -> list[Decision]:
        if not self.policy.delete_deployments:
            return []
        ours = [
            d
            for d in _newest_first(self.account.deployments, "gmt_create", "deployed_model")
            if d.status_name != "DELETING" and self.producer.get(str(d.model_name)) in self.scope
        ]
        newest_running: dict[str | None, str] = {}
        if self.policy.keep_newest_running:
            for deployment in ours:  # newest first: the first RUNNING one of each name
                if deployment.status_name == "RUNNING":
                    newest_running.setdefault(deployment.name, deployment.deployed_model)
        holders = {
            holder.deployed_model: slot
            for slot in self.policy.keep_deployments
            for dag_id in self.policy.dag_ids
            if (holder := slot_holder(ours, slot_key(dag_id, slot))) is not None
        }
        return [self._deployment(d, set(newest_running.values()), holders) for d in ours]

    def _deployment(
        self, deployment: Deployment, newest_running: set[str], holders: dict[str, str]
    ) -> Decision:
        kept = self.policy.keep_deployments
        if {deployment.deployed_model, deployment.name} & kept:
            action, why = "keep", "named in keep_deployments"
        elif deployment.deployed_model in holders:
            action, why = "keep", f"serves the slot {holders[deployment.deployed_model]!r}"
        elif deployment.deployed_model in newest_running:
            action, why = "keep", f"the newest RUNNING deployment named {deployment.name!r}"
        else:
            action, why = "delete", f"left over: serves {deployment.model_name} of this scope"
        return Decision(
            "deployment",
            deployment.deployed_model,
            str(deployment.name or deployment.model_name),
            age_of(deployment.gmt_create, self.now),
            action,  # type: ignore[arg-type]
            why,
        )

    # --- jobs ---------------------------------------------------------------------------------

    def protected(self, removed_deployments: set[str]) -> dict[str, str]:
        """Job id -> why it must stay, whatever ``keep_models`` says."""
        why: dict[str, str] = {}
        for job in self.account.jobs:
            if job.status_name in IN_PROGRESS and job.job_id in self.parent:
                why.setdefault(self.parent[job.job_id], f"the base of job {job.job_id} in progress")
            checkpoints = self.account.checkpoints.get(job.job_id, ())
            if checkpoints is None:
                why.setdefault(job.job_id, "its checkpoints could not be read")
            elif any(c.status_name == "PROCESSING" for c in checkpoints):
                why.setdefault(job.job_id, "a checkpoint of it is being exported")
        for deployment in self.account.deployments:
            made_by = self.producer.get(str(deployment.model_name))
            live = deployment.status_name != "DELETING"
            if made_by and live and deployment.deployed_model not in removed_deployments:
                why.setdefault(made_by, f"its model is deployed as {deployment.deployed_model}")
        for job_id in self._lineage_tips():
            why.setdefault(job_id, "the newest of a continued lineage (a next run continues it)")
        return why

    def _lineage_tips(self) -> set[str]:
        """The newest SUCCEEDED job of each lineage of two jobs or more."""
        succeeded = [j for j in self.account.jobs if j.status_name == "SUCCEEDED"]
        tips: set[str] = set()
        seen: set[str] = set()
        for job in _newest_first(succeeded, "create_time", "job_id"):
            lineage = self._lineage(job.job_id)
            if len(lineage) > 1 and not lineage & seen:
                tips.add(job.job_id)
            seen |= lineage
        return tips

    def jobs(self, removed_deployments: set[str]) -> list[Decision]:
        if self.policy.keep_models is None:
            return []
        protected = self.protected(removed_deployments)
        ours = [j for j in self.account.jobs if j.job_id in self.scope]
        decisions, trained = [], 0
        for job in _newest_first(ours, "create_time", "job_id"):
            status = job.status_name
            action: Action = "keep"
            if status in IN_PROGRESS:
                action = "cancel" if self.policy.cancel_in_progress else "keep"
                why = f"{status}: in progress" + (
                    " (cancel_in_progress)" if action == "cancel" else ""
                )
            elif job.job_id in protected:
                why = protected[job.job_id]
            elif status == "SUCCEEDED" and trained < self.policy.keep_models:
                why = f"within the newest {self.policy.keep_models} trained models"
            elif status == "SUCCEEDED" or status in UNSUCCESSFUL:
                action = "delete"
                why = f"beyond the newest {self.policy.keep_models} trained models"
                if status in UNSUCCESSFUL:
                    why = f"ended {status}: it holds no model"
            else:
                why = f"{status}: not a state to delete from"
            trained += status == "SUCCEEDED"
            decisions.append(
                Decision(
                    "job",
                    job.job_id,
                    self.owner_of(job),
                    age_of(job.create_time, self.now),
                    action,
                    why,
                )
            )
        return decisions

    # --- files --------------------------------------------------------------------------------

    def files(self, removed_jobs: set[str]) -> list[Decision]:
        older_than = self.policy.files_older_than
        if older_than is None:
            return []
        used: dict[str, str] = {}
        for job in self.account.jobs:
            if job.job_id not in removed_jobs:
                for file_id in [*job.training_file_ids, *job.validation_file_ids]:
                    used.setdefault(file_id, job.job_id)
        decisions = []
        for item in _newest_first(self.account.files, "gmt_create", "file_id"):
            age = age_of(item.gmt_create, self.now)
            action: Action = "keep"
            if item.file_id in used:
                why = f"used by job {used[item.file_id]}, which stays"
            elif age is None:
                why = "its age is unknown"
            elif age < older_than:
                why = f"newer than {older_than}"
            else:
                action, why = "delete", f"unused and older than {older_than}"
            decisions.append(
                Decision("file", item.file_id, str(item.name or "-"), age, action, why)
            )
        return decisions

    def plan(self) -> list[Decision]:
        deployments = self.deployments()
        removed = {d.id for d in deployments if d.action == "delete"}
        jobs = self.jobs(removed)
        return [*deployments, *jobs, *self.files({j.id for j in jobs if j.action == "delete"})]


def plan(account: Account, policy: Policy, now: datetime) -> list[Decision]:
    """Every decision of one run: deployments, then jobs, then files."""
    return Planner(account, policy, now).plan()
