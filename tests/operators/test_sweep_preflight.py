"""The sweep's pre-flight over the wire: a grid over budget, a bad member, a grid that needs
more job slots than are free (members of this run that hold a job need none), and no job
created by a refusal (counted at the emulator)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_dashscope.checks.quotas import AccountQuotaError
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import InvalidRequestError, OverBudgetError
from airflow_dashscope.operators import DashScopeSweepPreflightOperator
from tests.operators.conftest import HYPER
from tests.operators.helpers import execute, fine_tune

GRID = [{**HYPER, "n_epochs": epochs} for epochs in (1, 2, 3, 4)]


@pytest.fixture(autouse=True)
def limits_restored(emu: RunningEmulator) -> Iterator[None]:
    """The session's emulator keeps its limits across a reset: give the next test them back."""
    saved = emu.settings.limits()
    yield
    emu.set_limits(**saved)


def preflight(**options: Any) -> DashScopeSweepPreflightOperator:
    options.setdefault("grid", GRID)
    return DashScopeSweepPreflightOperator(task_id="preflight", model="qwen3-8b", **options)


def test_a_grid_over_budget_is_refused_before_any_request(
    emu: RunningEmulator, make_context: Any
) -> None:
    # 1,000 tokens x (1 + 2 + 3 + 4) epochs = 10,000 billed tokens for the whole grid.
    op = preflight(training_tokens=1000, max_billed_tokens=9_999)
    with pytest.raises(OverBudgetError) as raised:
        execute(op, make_context("preflight"))
    text = str(raised.value)
    assert "The grid of 4 members together is over budget" in text
    assert "10000 = 1000 tokens x 10 epochs" in text and "max_billed_tokens (9999)" in text
    with pytest.raises(OverBudgetError, match="max_cost"):
        execute(preflight(training_tokens=1_000_000, max_cost="0.05"), make_context("preflight"))
    assert emu.counters()["jobs_created"] == 0
    assert (
        execute(preflight(training_tokens=1000, max_billed_tokens=10_000), make_context()) == GRID
    )


def test_a_bad_member_is_named_before_anything_is_paid_for(make_context: Any) -> None:
    grid = [GRID[0], {**HYPER, "batch_size": "0"}]
    with pytest.raises(InvalidRequestError, match=r"Invalid grid\[1\]"):
        execute(preflight(grid=grid), make_context("preflight"))
    with pytest.raises(InvalidRequestError, match="non-empty list"):
        execute(preflight(grid={"n_epochs": 1}), make_context("preflight"))


def test_numeric_text_from_a_template_is_returned_as_numbers(
    emu: RunningEmulator, make_context: Any
) -> None:
    grid = [{"n_epochs": "2", "batch_size": "8", "max_length": "1024", "learning_rate": "1e-5"}]
    assert execute(preflight(grid=grid), make_context("preflight")) == [
        {"n_epochs": 2, "batch_size": 8, "max_length": 1024, "learning_rate": "1e-5"}
    ]


def test_members_of_this_run_that_hold_a_job_need_no_new_slot(
    emu: RunningEmulator,
    file_id: str,
    make_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FINE_TUNE_JOBS", "4")
    emu.set_limits(max_jobs=4)
    for index in (0, 1):  # members 0 and 1 of this run's fine_tune started (a cleared sweep)
        context = make_context("fine_tune")
        context["ti"].map_index = index
        execute(fine_tune(file_id, task_id="fine_tune", wait_for_completion=False), context)
    created = emu.counters()["jobs_created"]
    # 2 of 4 slots taken: the other 2 members fit, since 0 and 1 reattach to their jobs.
    assert execute(preflight(fine_tune_task_id="fine_tune"), make_context("preflight")) == GRID
    # Without knowing the fine-tune, all 4 members would need a slot.
    with pytest.raises(AccountQuotaError) as raised:
        execute(preflight(), make_context("preflight"))
    text = str(raised.value)
    assert "The grid of 4 members needs 4 fine-tune job slots and the account has 2 free" in text
    assert "(2 of 4 jobs running or succeeded)" in text and "DashScopeRetentionOperator" in text
    assert emu.counters()["jobs_created"] == created
