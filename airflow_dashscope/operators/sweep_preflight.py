"""Check a sweep's whole grid before its first job is created: every member's parameters, the
grid's cost against one budget, and room for all its jobs in the account's job quota.

A mapped fine-tune checks each member alone, when that member starts: the fifth member of a
grid that does not fit would fail after four jobs were paid for. This task runs before the
members exist and fails the grid as a whole, with the numbers and what to change; its return
value is the grid itself, so the fine-tune maps over what was checked:
``DashScopeFineTuneOperator.partial(...).expand(hyper_parameters=preflight.output)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.checks.parameters import (
    JobParameterError,
    as_number,
    normalize_hyper_parameters,
    validate_fine_tune_parameters,
)
from airflow_dashscope.exceptions import InvalidRequestError, OverBudgetError
from airflow_dashscope.operators.base import DashScopeBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_dashscope.client.models import FineTuneJob


class DashScopeSweepPreflightOperator(DashScopeBaseOperator):
    """Fail a sweep's grid that cannot run whole, before any job is created.

    Checks, in this order (the first two without a request): each member's hyper parameters
    (as the fine-tune operator does; the error names the member), the grid's estimated cost
    (``training_tokens`` x the members' epochs, summed) against ``max_billed_tokens`` /
    ``max_cost``, and the account's free fine-tune job slots (``checks/quotas.py``) against
    the members that need a new job. Returns the grid (numeric text as numbers).

    :param grid: the hyper parameters of each member, as given to ``expand``.
    :param model: the model every member trains (a base model or an earlier job's output).
    :param training_type: as the fine-tune's (default ``sft``).
    :param training_tokens: tokens of one pass over the training data (e.g. the upload's
        ``upload.output["training_tokens"]``); needed by a budget.
    :param max_billed_tokens: the whole grid's budget in billed tokens.
    :param max_cost: the whole grid's budget in yuan.
    :param fine_tune_task_id: the mapped fine-tune's task id: its members of this DAG run that
        already have a job (a cleared sweep) need no new slot.
    """

    template_fields: Sequence[str] = (
        "grid",
        "model",
        "training_type",
        "training_tokens",
        "max_billed_tokens",
        "max_cost",
        "dashscope_conn_id",
    )
    template_fields_renderers = {"grid": "json"}

    def __init__(
        self,
        *,
        grid: Any,
        model: str,
        training_type: Any = "sft",
        training_tokens: Any = None,
        max_billed_tokens: Any = None,
        max_cost: Any = None,
        fine_tune_task_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.grid = grid
        self.model = model
        self.training_type = training_type
        self.training_tokens = training_tokens
        self.max_billed_tokens = max_billed_tokens
        self.max_cost = max_cost
        self.fine_tune_task_id = fine_tune_task_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from airflow_dashscope.checks.quotas import check_job_slots

        grid = self.check_parameters()
        self.check_budget(grid)
        jobs = self.calling("listing the fine-tune jobs", self.client.list_fine_tunes)
        covered = self.members_with_a_job(context, jobs, len(grid))
        needed = len(grid) - len(covered)
        free = check_job_slots(jobs, needed, what=f"The grid of {len(grid)} members")
        self.log.info(
            "Grid of %d members fits: %d new jobs needed%s, %d job slots free.",
            len(grid),
            needed,
            f" (members {sorted(covered)} already have theirs)" if covered else "",
            free,
        )
        return grid

    def check_parameters(self) -> list[dict[str, Any]]:
        """Each member's parameters, normalised and checked; the error names the member."""
        from airflow_dashscope.operators.fine_tune_request import enum_value

        grid = self.grid
        if isinstance(grid, (str, bytes, Mapping)) or not isinstance(grid, Sequence) or not grid:
            raise InvalidRequestError(
                f"grid must be a non-empty list of hyper_parameters dicts, got {grid!r}"
            )
        training_type = enum_value(self.training_type)
        checked = []
        for index, member in enumerate(grid):
            if not isinstance(member, Mapping):
                raise InvalidRequestError(f"grid[{index}] must be a dict, got {member!r}")
            hyper = normalize_hyper_parameters(member) or {}
            try:
                validate_fine_tune_parameters(self.model, training_type, hyper)
            except JobParameterError as error:
                raise InvalidRequestError(f"Invalid grid[{index}] ({member}): {error}") from error
            checked.append(hyper)
        return checked

    def check_budget(self, grid: list[dict[str, Any]]) -> None:
        """The grid's estimate is one pass x the sum of the members' epochs: the one budget
        check (``checks/budget.py``) judges it as it judges a single job."""
        from airflow_dashscope.checks.budget import check_budget

        epochs = [as_number(member.get("n_epochs")) for member in grid]
        known = all(isinstance(e, int) and not isinstance(e, bool) for e in epochs)
        try:
            estimate = check_budget(
                self.training_tokens,
                sum(epochs) if known else None,
                self.max_billed_tokens,
                model=self.model,
                max_cost=self.max_cost,
            )
        except OverBudgetError as error:
            raise OverBudgetError(
                f"The grid of {len(grid)} members together is over budget; run fewer members "
                f"or raise the budget, or: {error}"
            ) from error
        if estimate is not None:
            self.log.info("Estimated billed tokens of the whole grid: %s.", estimate)

    def members_with_a_job(self, context: Context, jobs: list[FineTuneJob], size: int) -> set[int]:
        """Map indexes of the fine-tune (this run) that hold a counted job already: a retry
        or a clear reattaches to it or reuses it rather than taking a new slot."""
        from airflow_dashscope.checks.quotas import COUNTED_JOB_STATUSES
        from airflow_dashscope.operators.identity import instance_digest, job_owner

        if not self.fine_tune_task_id:
            return set()
        ti = context["ti"]
        digests = {
            instance_digest(ti.dag_id, self.fine_tune_task_id, ti.run_id, index): index
            for index in range(size)
        }
        return {
            digests[owner.instance]
            for job in jobs
            if job.status_name in COUNTED_JOB_STATUSES
            and (owner := job_owner(job.job_name)) is not None
            and owner.instance in digests
        }
