"""Keep an account within its limits by a policy: old trained models, unused files and
left-over deployments deleted, and never what a model in service or a next run needs.

The rules live in :mod:`airflow_dashscope.operators.retention_plan`; this operator reads the
account, logs the plan as a table (resource, id, owner, age, decision, why) and, unless
``dry_run``, carries it out phase by phase: deployments, then jobs (planned again with the
deployments really deleted), then files (planned again with the jobs really deleted). Every
run plans from the service's lists, so a retry after a crash deletes only what is left.

Which fine-tune jobs may be deleted: ``model-training-api-reference.md`` disagrees with
itself. Its error table's example refuses a job "because it is succeeded, failed or
canceled", while the guide (``fine-tuning-api-guide.md``: a job in training cannot be
deleted) and the remedy of the 20-job limit (delete the models no longer used) say an ended
job can be deleted and one in progress cannot. This operator follows the second reading: it
asks to delete ended jobs only, never one in progress (``cancel_in_progress`` cancels it; a
later run deletes it). Where the service refuses a delete all the same, the log says so with
the console page to delete it from, and the run goes on: the result lists it as refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_dashscope.checks.parameters import as_number
from airflow_dashscope.client.errors import DashScopeAPIError, DashScopeError, is_gone
from airflow_dashscope.exceptions import InvalidRequestError, task_error_for
from airflow_dashscope.links.console import console_url, region_of
from airflow_dashscope.operators.base import DashScopeBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_dashscope.client.models import Checkpoint, FineTuneJob
    from airflow_dashscope.operators.retention_plan import Account, Decision, Policy

#: The plan table's columns.
COLUMNS = ("resource", "id", "owner", "age", "decision", "why")


def utc_now() -> datetime:
    """The time ages are measured against (one seam, so a test can use the emulator's)."""
    return datetime.now(timezone.utc)


def short_age(age: timedelta | None) -> str:
    if age is None:
        return "?"
    seconds = max(0, int(age.total_seconds()))
    days, hours, minutes = seconds // 86400, seconds // 3600 % 24, seconds // 60 % 60
    return f"{days}d{hours}h" if days else f"{hours}h{minutes}m" if hours else f"{minutes}m"


def plan_table(decisions: Sequence[Decision]) -> str:
    """The plan as an aligned text table, one row a resource."""
    rows = [COLUMNS] + [
        (d.resource, d.id, d.owner, short_age(d.age), d.action, d.why) for d in decisions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


@dataclass
class Outcome:
    """What a run did, each entry ``{"resource", "id", "why"}`` (JSON, for the XCom)."""

    deleted: list[dict[str, str]] = field(default_factory=list)
    cancelled: list[dict[str, str]] = field(default_factory=list)
    kept: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    planned: list[dict[str, str]] = field(default_factory=list)

    def add(self, bucket: str, decision: Decision, why: str | None = None) -> None:
        entry = {"resource": decision.resource, "id": decision.id, "why": why or decision.why}
        getattr(self, bucket).append(entry)

    def to_dict(self, *, dry_run: bool) -> dict[str, Any]:
        done = {"deleted": self.deleted, "cancelled": self.cancelled, "kept": self.kept}
        return {"dry_run": dry_run, **done, "refused": self.refused, "planned": self.planned}


class DashScopeRetentionOperator(DashScopeBaseOperator):
    """Delete what an account no longer needs, by a policy; ``dry_run=True`` only plans.

    Jobs in scope are those of ``dag_ids`` (default: this task's DAG; a job's DAG is read from
    its name) or, with ``lineage_of``, the jobs linked to that job or model by continued
    training. Whatever the policy, a job stays while its model (or a checkpoint exported from
    it) is deployed, while it is the base of a job in progress or the newest of a continued
    lineage, while a checkpoint of it is exported, and while it is in progress.

    Returns ``{"dry_run", "deleted", "cancelled", "kept", "refused"}``, each a list of
    ``{"resource", "id", "why"}``.

    :param keep_models: keep the newest N trained models (SUCCEEDED jobs) of the scope and
        delete the older ones and the FAILED or CANCELED ones; ``None`` (default): jobs are
        not touched.
    :param dag_ids: the DAGs whose jobs (and their deployments) are in scope.
    :param lineage_of: a job id or a model id: the scope is its lineage instead.
    :param files_older_than: delete files older than this that no remaining job uses;
        ``None`` (default): files are not touched.
    :param delete_deployments: delete the deployments of models trained in scope, except
        those ``keep_deployments`` names and (``keep_newest_running``) the newest RUNNING one
        of each deployment name. Default False: deployments are not touched.
    :param keep_deployments: deployed model ids, deployment names or serving slots (the
        slot's holder, see ``DashScopePromoteModelOperator``) to keep.
    :param keep_newest_running: keep the newest RUNNING deployment of each name.
    :param cancel_in_progress: cancel the scope's jobs in progress (never their default).
    :param dry_run: log the plan and change nothing.
    """

    template_fields: Sequence[str] = (
        "keep_models",
        "dag_ids",
        "lineage_of",
        "keep_deployments",
        "dashscope_conn_id",
    )

    def __init__(
        self,
        *,
        keep_models: int | str | None = None,
        dag_ids: str | Sequence[str] | None = None,
        lineage_of: str | None = None,
        files_older_than: timedelta | None = None,
        delete_deployments: bool = False,
        keep_deployments: Sequence[str] = (),
        keep_newest_running: bool = False,
        cancel_in_progress: bool = False,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if files_older_than is not None and not isinstance(files_older_than, timedelta):
            raise TypeError(f"files_older_than must be a timedelta, got {files_older_than!r}")
        self.keep_models = keep_models
        self.dag_ids = dag_ids
        self.lineage_of = lineage_of
        self.files_older_than = files_older_than
        self.delete_deployments = delete_deployments
        self.keep_deployments = keep_deployments
        self.keep_newest_running = keep_newest_running
        self.cancel_in_progress = cancel_in_progress
        #: ``dry_run`` (BaseOperator.dry_run is a method: the flag is stored under this name).
        self.plan_only = dry_run

    def policy(self, context: Context) -> Policy:
        """The arguments, rendered and checked (nothing is read from the service yet)."""
        from airflow_dashscope.operators.retention_plan import Policy

        keep = as_number(self.keep_models)
        if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 0):
            raise InvalidRequestError(f"keep_models must be an integer >= 0, got {keep!r}")
        dag_ids = [self.dag_ids] if isinstance(self.dag_ids, str) else list(self.dag_ids or [])
        keep_deployments = self.keep_deployments
        if isinstance(keep_deployments, str):
            keep_deployments = [keep_deployments]
        return Policy(
            dag_ids=tuple(dag_ids or [context["ti"].dag_id]),
            lineage_of=self.lineage_of or None,
            keep_models=keep,
            files_older_than=self.files_older_than,
            delete_deployments=self.delete_deployments,
            keep_deployments=frozenset(keep_deployments),
            keep_newest_running=self.keep_newest_running,
            cancel_in_progress=self.cancel_in_progress,
        )

    def read_account(self) -> Account:
        """The service's lists (every page) and each SUCCEEDED job's checkpoints."""
        from airflow_dashscope.operators.retention_plan import Account

        jobs = self.calling("listing the fine-tune jobs", self.client.list_fine_tunes)
        return Account(
            jobs=jobs,
            files=self.calling("listing the files", self.client.list_files),
            deployments=self.calling("listing the deployments", self.client.list_deployments),
            checkpoints={
                job.job_id: self.checkpoints(job) for job in jobs if job.status_name == "SUCCEEDED"
            },
        )

    def checkpoints(self, job: FineTuneJob) -> list[Checkpoint] | None:
        """The job's checkpoints; None when they cannot be read (the job is then kept)."""
        try:
            return list(self.client.list_checkpoints(job.job_id))
        except DashScopeError as error:
            self.log.warning("Checkpoints of job %s unreadable (it is kept): %s", job.job_id, error)
            return None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_dashscope.operators.retention_plan import Planner

        policy = self.policy(context)
        planner = Planner(self.read_account(), policy, utc_now())
        if policy.lineage_of and not planner.scope:
            self.log.warning(
                "No job or model %s (deleted?): no job is in scope. Name one that exists, "
                "e.g. the newest job of the lineage.",
                policy.lineage_of,
            )
        outcome = Outcome()
        if self.plan_only:
            decisions = planner.plan()
            self.log.info("Retention plan (dry run, nothing changes):\n%s", plan_table(decisions))
            for decision in decisions:
                outcome.add("planned" if decision.action != "keep" else "kept", decision)
            return outcome.to_dict(dry_run=True)
        # Each phase is planned with what the one before really deleted: a refused delete
        # keeps protecting what depends on it.
        deployments = self.carry_out("deployments", planner.deployments(), outcome)
        jobs = self.carry_out("jobs", planner.jobs(deployments), outcome)
        self.carry_out("files", planner.files(jobs), outcome)
        self.log.info(
            "Retention done: %d deleted, %d cancelled, %d kept, %d refused.",
            len(outcome.deleted),
            len(outcome.cancelled),
            len(outcome.kept),
            len(outcome.refused),
        )
        return outcome.to_dict(dry_run=False)

    def carry_out(self, phase: str, decisions: list[Decision], outcome: Outcome) -> set[str]:
        """Log the phase's plan and carry it out; returns the ids really deleted."""
        if not decisions:
            return set()
        self.log.info("Retention plan, %s:\n%s", phase, plan_table(decisions))
        deleted: set[str] = set()
        for decision in decisions:
            if decision.action == "keep":
                outcome.add("kept", decision)
                continue
            call = self.remote_call(decision)
            try:
                call(decision.id)
            except DashScopeError as error:
                if decision.action == "delete" and is_gone(error):
                    outcome.add("deleted", decision, "already gone")
                    deleted.add(decision.id)
                elif isinstance(error, DashScopeAPIError) and not error.retryable:
                    self.log.warning("%s", self.refusal(decision, error))
                    outcome.add("refused", decision, error.message)
                else:  # may heal: a retry plans again from what is left
                    raise task_error_for(error, f"{decision.action} {decision.resource}") from error
                continue
            self.log.info(
                "%s %s %s: %s.", decision.action, decision.resource, decision.id, decision.why
            )
            if decision.action == "delete":
                outcome.add("deleted", decision)
                deleted.add(decision.id)
            else:
                outcome.add("cancelled", decision)
        return deleted

    def remote_call(self, decision: Decision) -> Callable[[str], Any]:
        if decision.resource == "deployment":
            return self.client.delete_deployment
        if decision.resource == "file":
            return self.client.delete_file
        if decision.action == "cancel":
            return self.client.cancel_fine_tune
        return self.client.delete_fine_tune

    def refusal(self, decision: Decision, error: DashScopeAPIError) -> str:
        """The log line of a refused change: what the service said, and the console's way."""
        page = {"job": "fine_tune", "deployment": "deployment"}.get(decision.resource)
        where = "the Model Studio console"
        if page:
            region = region_of(self.client.config.base_url)
            where = console_url(page, decision.id, region=region, workspace=self.workspace)
        why = ""
        if decision.resource == "job":
            why = " (the pages disagree on which job states the API may delete)"
        return (
            f"The service refused to {decision.action} {decision.resource} {decision.id}"
            f"{why}: {error.message}. Do it in the console instead: {where}. The run goes on."
        )
