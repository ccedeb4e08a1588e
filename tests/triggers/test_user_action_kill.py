"""A user's "mark failed" reaches the remote job although the triggerer keeps cancelling.

Airflow 3.3's triggerer cancels a trigger's task with its user-action message, calls
``on_kill`` from the ``CancelledError`` handler, and then cancels the same task again at every
sync (about once a second) until the task has ended. These tests run the trigger under the
installed Airflow's own ``TriggerRunner.run_trigger`` and repeat that cancellation the way the
runner does, with a supervisor that answers the state read slowly (as a busy one does).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.compat import outlive_cancellations
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.triggers import DashScopeFineTuneJobTrigger
from airflow_dashscope.waiting import user_action

from .conftest import polled

NewJob = Callable[..., FineTuneJob]
CANCEL = "POST /api/v1/fine-tunes/{job_id}/cancel"
#: How often the tests re-send the cancellation (the real runner: every ~1 s).
RESEND = 0.05
#: How long the fake supervisor takes to answer the state read.
SLOW_ANSWER = 0.4

needs_on_kill = pytest.mark.skipif(
    Version(airflow_version) < Version("3.3"), reason="the triggerer calls on_kill from 3.3 on"
)


@pytest.fixture
def slow_state(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The task instance's state, answered after :data:`SLOW_ANSWER` seconds."""
    state: dict[str, Any] = {"value": "failed", "answered": 0}

    async def current(key: user_action.TaskInstanceKey) -> str | None:
        await asyncio.sleep(SLOW_ANSWER)
        state["answered"] += 1
        return state["value"]

    monkeypatch.setattr(user_action, "acurrent_state", current)
    return state


def deferred_trigger(job: FineTuneJob) -> DashScopeFineTuneJobTrigger:
    trigger = DashScopeFineTuneJobTrigger(
        job.job_id, dashscope_conn_id="dashscope_default", poll_interval=0.01
    )
    trigger.task_instance = SimpleNamespace(  # type: ignore[assignment]
        id="0199",
        dag_id="dag",
        task_id="finetune",
        run_id="manual__1",
        map_index=-1,
        try_number=1,
        context_carrier=None,
    )
    return trigger


async def user_acts_on(emu: RunningEmulator, trigger: DashScopeFineTuneJobTrigger) -> int:
    """Run ``trigger`` as the triggerer does, act as a user, re-cancel until it ends.

    Returns how many cancellations were sent.
    """
    from airflow.jobs.triggerer_job_runner import _USER_ACTION_CANCEL_MSG, TriggerRunner

    runner = TriggerRunner()
    task = asyncio.create_task(runner.run_trigger(1, trigger))
    runner.triggers[1] = {"task": task, "name": "dag/manual__1/finetune", "events": 0}  # type: ignore[typeddict-item]
    await polled(emu, "GET /api/v1/fine-tunes/{job_id}", times=2)
    sent = 0
    while not task.done():
        task.cancel(_USER_ACTION_CANCEL_MSG)
        sent += 1
        await asyncio.sleep(RESEND)
    with pytest.raises(asyncio.CancelledError):
        await task
    return sent


@needs_on_kill
async def test_mark_failed_cancels_the_job_under_repeated_cancellation(
    emu: RunningEmulator,
    new_job: NewJob,
    client: DashScopeClient,
    slow_state: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    job = new_job()
    sent = await user_acts_on(emu, deferred_trigger(job))
    assert sent > SLOW_ANSWER / RESEND, "the runner's cancellations did not overlap on_kill"
    assert slow_state["answered"] == 1
    assert emu.counters()["requests"].get(CANCEL) == 1
    logged = capsys.readouterr().out
    assert logged.index(f"Cancelled fine-tune job {job.job_id}") < logged.index("invoking on_kill")
    assert client.get_fine_tune(job.job_id).status_name in ("CANCELING", "CANCELED")


@needs_on_kill
async def test_mark_success_keeps_the_job_and_says_so(
    emu: RunningEmulator,
    new_job: NewJob,
    client: DashScopeClient,
    slow_state: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    slow_state["value"] = "success"
    job = new_job()
    await user_acts_on(emu, deferred_trigger(job))
    assert slow_state["answered"] == 1
    assert CANCEL not in emu.counters()["requests"]
    assert client.get_fine_tune(job.job_id).status_name not in ("CANCELING", "CANCELED")
    # The decision is in the trigger's log (Airflow's structlog writes it to stdout) before
    # the triggerer's own on_kill call: the line reaches the task's log.
    logged = capsys.readouterr().out
    assert f"fine-tune job {job.job_id} keeps running" in logged
    assert logged.index("keeps running") < logged.index("invoking on_kill")


async def test_outlive_cancellations_finishes_the_work_despite_cancels() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    done: list[str] = []

    async def work() -> None:
        started.set()
        await release.wait()  # ends only once every cancellation below has landed
        done.append("work")

    task = asyncio.create_task(outlive_cancellations(work(), 5, logging.getLogger("t")))
    await started.wait()
    for _ in range(10):
        task.cancel()
        await asyncio.sleep(0)  # let the cancellation reach the awaiting task
    assert not task.done() and not done
    release.set()
    await task
    assert done == ["work"] and not task.cancelled()


async def test_outlive_cancellations_gives_up_after_its_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancelled = asyncio.Event()

    async def stuck() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(outlive_cancellations(stuck(), 0.2, logging.getLogger("t")), 5)
    await asyncio.wait_for(cancelled.wait(), 1)
    assert "did not end within" in caplog.text


async def test_outlive_cancellations_raises_what_the_work_raised() -> None:
    async def broken() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await outlive_cancellations(broken(), 5, logging.getLogger("t"))
