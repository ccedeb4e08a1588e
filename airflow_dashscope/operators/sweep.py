"""Pick the best member of a sweep (a mapped fine-tune), and retire the others' jobs.

A sweep is ``DashScopeFineTuneOperator.partial(...).expand(hyper_parameters=[...])``: one job
per member, trained one after the other by the service's single training slot. This task
runs once they have all ended (``trigger_rule="all_done"``: some may have failed), reads every
member of this DAG run, map index by map index (its task state, its return value, its job),
judges each on one metric (``sweep_table.py``), logs the comparison table, returns the chosen
member's result, and deletes the losers' jobs (each job takes one of the account's 20 slots)
except those the retention rules protect (``retention_plan.Planner.protected``).

Why map index by map index, and not the ``fine_tune.output`` sequence alone: Airflow hands a
downstream task the members' return values without the failed ones and without their map
indexes, so a failed member would vanish from the table and shift every index after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_dashscope.client.errors import DashScopeAPIError, DashScopeError, is_gone
from airflow_dashscope.exceptions import task_error_for
from airflow_dashscope.links.results import DashScopeSweepLink
from airflow_dashscope.operators.base import DashScopeBaseOperator
from airflow_dashscope.operators.sweep_metrics import EVALUATION, direction_of

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_dashscope.client.models import FineTuneJob
    from airflow_dashscope.operators.sweep_table import Member


def source_task_id(value: Any) -> str | None:
    """The task id behind ``task.output`` (an XComArg), else None."""
    operator = getattr(value, "operator", None)
    task_id = getattr(operator, "task_id", None)
    return task_id if isinstance(task_id, str) else None


def map_states(states: Mapping[str, Any], run_id: str, task_id: str) -> dict[int, str]:
    """Map index -> state, from the task-states API (``{run_id: {"task_3": state}}``); an
    unmapped (or never expanded) task is map index -1."""
    found: dict[int, str] = {}
    for key, state in (states.get(run_id) or {}).items():
        text = None if state is None else str(getattr(state, "value", state))
        if key == task_id:
            found[-1] = text or "none"
        elif key.startswith(f"{task_id}_") and key[len(task_id) + 1 :].isdigit():
            found[int(key[len(task_id) + 1 :])] = text or "none"
    if len(found) > 1:
        found.pop(-1, None)
    return found


class DashScopeSelectBestFineTuneOperator(DashScopeBaseOperator):
    """Choose the best member of a mapped fine-tune and return its result.

    Members that failed, or that lack the metric, are left out (the log and the table say
    why); when none qualifies the task fails at once saying why (e.g. no member logged a
    validation loss: give ``validation_file_ids`` or a ``split``). A tie goes to the lower
    map index.

    Returns the chosen member's fine-tune result (``job_id``, ``finetuned_output``,
    ``model``, ``training``...) plus ``"sweep": {"metric", "direction", "fine_tune_task_id",
    "chosen_map_index", "members": [{"map_index", "job_id", "status", "value",
    "hyper_parameters", "retired", ...}]}``. ``job_id`` and ``finetuned_output`` are also XComs
    of their own: ``select.output["job_id"]`` feeds an export or a deployment.

    :param candidates: the mapped fine-tune's ``.output``; its task id says which task's
        members to read (failed ones included).
    :param fine_tune_task_id: the mapped fine-tune's task id, instead of ``candidates`` (set
        ``fine_tune >> select`` when the fine-tune is declared after this task).
    :param metric: ``best_val_loss`` (default), ``final_val_loss``, ``final_loss``,
        ``best_loss`` (lowest wins, from each result's ``training``), or ``evaluation``
        (highest ``scores[<first model>][<evaluation_metric>]["mean"]`` wins).
    :param evaluations: with ``metric="evaluation"``: the mapped evaluation's ``.output``, one
        per member (matched by the evaluated model id, else by map index).
    :param evaluation_metric: the score to compare (default: each evaluation's ``metric``).
    :param retire_losers: delete the other members' jobs (default True), never one the
        retention rules keep: its model (or an exported checkpoint) deployed, the base of a
        job in progress, the newest of a continued lineage, a checkpoint being exported.
    """

    template_fields: Sequence[str] = (
        "candidates",
        "evaluations",
        "evaluation_metric",
        "dashscope_conn_id",
    )
    operator_extra_links = (DashScopeSweepLink(),)

    def __init__(
        self,
        *,
        candidates: Any = None,
        fine_tune_task_id: str | None = None,
        metric: str = "best_val_loss",
        evaluations: Any = None,
        evaluation_metric: str | None = None,
        retire_losers: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        direction_of(metric)  # an unknown metric is a DAG import error
        if metric == EVALUATION and evaluations is None:
            raise ValueError('metric="evaluation" needs evaluations=<mapped evaluation>.output')
        self.fine_tune_task_id = fine_tune_task_id or source_task_id(candidates)
        if self.fine_tune_task_id is None and candidates is None:
            raise ValueError("Pass candidates=<mapped fine-tune>.output or fine_tune_task_id")
        self.evaluation_task_id = source_task_id(evaluations)
        self.candidates = candidates
        self.metric = metric
        self.evaluations = evaluations
        self.evaluation_metric = evaluation_metric
        self.retire_losers = retire_losers
        if fine_tune_task_id and self.has_dag() and fine_tune_task_id in self.dag.task_dict:
            self.set_upstream(self.dag.task_dict[fine_tune_task_id])

    # --- reading the members ------------------------------------------------------------------

    def states(self, context: Context, task_id: str) -> dict[int, str] | None:
        """Map index -> task state of ``task_id`` in this run; None when unreadable."""
        from airflow_dashscope import compat

        ti = context["ti"]
        try:
            raw = compat.get_task_states(ti.dag_id, task_id, ti.run_id, None)
        except Exception as error:  # no supervisor (a bare execute), or the API is down
            self.log.warning(
                "Cannot read the states of %s (%s): using the values given.", task_id, error
            )
            return None
        return map_states(raw, ti.run_id, task_id) or None

    def pull(self, context: Context, task_id: str, map_index: int, *keys: str) -> Any:
        """The first of ``keys`` that the member pushed (None if none)."""
        for key in keys:
            value = context["ti"].xcom_pull(task_ids=task_id, map_indexes=map_index, key=key)
            if value is not None:
                return value
        return None

    def read_members(self, context: Context) -> list[Member]:
        from airflow_dashscope.operators.sweep_table import Member

        task_id = self.fine_tune_task_id
        states = self.states(context, task_id) if task_id else None
        if states is None:
            given = [_mapping(r) for r in self.candidates or []]
            return [
                Member(i, "success" if r else None, r, (r or {}).get("job_id"))
                for i, r in enumerate(given)
            ]
        assert task_id is not None
        members = []
        for index, state in sorted(states.items()):
            result = _mapping(self.pull(context, task_id, index, "return_value"))
            member = Member(index, state, result)
            member.job_id = (result or {}).get("job_id") or self.pull(
                context, task_id, index, "job_id"
            )
            members.append(member)
        return members

    def read_evaluations(self, context: Context) -> dict[int, Mapping[str, Any] | None]:
        """Map index -> evaluation result (a gate-failed one from its ``evaluation`` XCom)."""
        task_id = self.evaluation_task_id
        states = self.states(context, task_id) if task_id else None
        if states is None:
            return {i: _mapping(e) for i, e in enumerate(self.evaluations or [])}
        assert task_id is not None
        return {
            i: _mapping(self.pull(context, task_id, i, "return_value", "evaluation"))
            for i in sorted(states)
        }

    def attach_jobs(self, context: Context, members: list[Member], jobs: list[FineTuneJob]) -> None:
        """Each member's job (its result's, its ``job_id`` XCom, else the job named after its
        task instance) with the job's status and hyper parameters."""
        from airflow_dashscope.operators.identity import instance_digest, job_owner

        by_id = {job.job_id: job for job in jobs}
        ti = context["ti"]
        for member in members:
            if member.job_id is None and self.fine_tune_task_id:
                digest = instance_digest(
                    ti.dag_id, self.fine_tune_task_id, ti.run_id, member.map_index
                )
                named = [
                    j
                    for j in jobs
                    if (owner := job_owner(j.job_name)) is not None and owner.instance == digest
                ]
                if named:
                    member.job_id = max(named, key=lambda j: str(j.job_id)).job_id
            job = by_id.get(str(member.job_id)) if member.job_id else None
            if job is not None:
                member.job_status = job.status_name
                if job.hyper_parameters is not None:
                    member.hyper_parameters = job.hyper_parameters.to_dict()

    # --- the steps ----------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_dashscope.operators.sweep_table import (
            NoQualifiedMemberError,
            choose,
            judge,
            match_evaluations,
            table,
        )

        members = self.read_members(context)
        jobs = self.calling("listing the fine-tune jobs", self.client.list_fine_tunes)
        self.attach_jobs(context, members, jobs)
        evaluations = None
        if self.metric == EVALUATION:
            evaluations = match_evaluations(members, self.read_evaluations(context))
        judge(
            members,
            self.metric,
            evaluations=evaluations,
            evaluation_metric=self.evaluation_metric,
        )
        task_id = self.fine_tune_task_id or "the fine-tune"
        for member in members:
            if member.excluded:
                self.log.warning("Member %d is left out: %s.", member.map_index, member.excluded)
        try:
            chosen = choose(members, self.metric, task_id)
        except NoQualifiedMemberError:
            self.log.info(
                "Sweep of %s by %s:\n%s", task_id, self.metric, table(members, self.metric, None)
            )
            raise
        self.log.info(
            "Chose member %d (job %s, %s %s).",
            chosen.map_index,
            chosen.job_id,
            self.metric,
            chosen.value,
        )
        if self.retire_losers:
            self.retire([m for m in members if m is not chosen], jobs)
        self.log.info(
            "Sweep of %s by %s:\n%s", task_id, self.metric, table(members, self.metric, chosen)
        )
        result = dict(chosen.result or {})
        self.push(
            context, job_id=result.get("job_id"), finetuned_output=result.get("finetuned_output")
        )
        result["sweep"] = {
            "metric": self.metric,
            "direction": direction_of(self.metric),
            "fine_tune_task_id": self.fine_tune_task_id,
            "chosen_map_index": chosen.map_index,
            "members": [m.to_dict() for m in members],
        }
        return result

    def retire(self, losers: list[Member], jobs: list[FineTuneJob]) -> None:
        """Delete the losers' jobs, except what the retention rules protect."""
        from airflow_dashscope.operators.identity import IN_PROGRESS
        from airflow_dashscope.operators.retention_plan import Account, Planner, Policy

        by_id = {job.job_id: job for job in jobs}
        ours = [by_id[m.job_id] for m in losers if m.job_id in by_id]
        account = Account(
            jobs=jobs,
            files=[],
            deployments=self.calling("listing the deployments", self.client.list_deployments),
            checkpoints={
                j.job_id: self.checkpoints(j) for j in ours if j.status_name == "SUCCEEDED"
            },
        )
        protected = Planner(account, Policy(), datetime.now(timezone.utc)).protected(set())
        for member in losers:
            job = by_id.get(str(member.job_id)) if member.job_id else None
            if job is None:
                member.retired = member.job_id is not None
                member.retirement = "already gone" if member.job_id else None
            elif job.status_name in IN_PROGRESS:
                member.retirement = f"{job.status_name}: in progress"
            elif job.job_id in protected:
                member.retirement = protected[job.job_id]
            else:
                self.delete(member)

    def delete(self, member: Member) -> None:
        job_id = str(member.job_id)
        try:
            self.client.delete_fine_tune(job_id)
        except DashScopeError as error:
            if is_gone(error):
                member.retired, member.retirement = True, "already gone"
            elif isinstance(error, DashScopeAPIError) and not error.retryable:
                member.retirement = f"the service refused the delete: {error.message}"
                self.log.warning("Could not retire job %s: %s", job_id, error.message)
            else:  # may heal: a retry chooses again and retires what is left
                raise task_error_for(error, f"deleting the losing job {job_id}") from error
            return
        member.retired, member.retirement = True, "deleted"
        self.log.info("Retired job %s of member %d (not chosen).", job_id, member.map_index)

    def checkpoints(self, job: FineTuneJob) -> list[Any] | None:
        """The job's checkpoints; None when unreadable (the planner then keeps the job)."""
        try:
            return list(self.client.list_checkpoints(job.job_id))
        except DashScopeError as error:
            self.log.warning("Checkpoints of job %s unreadable (it is kept): %s", job.job_id, error)
            return None


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None
