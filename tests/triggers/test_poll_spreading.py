"""A thousand triggers resumed together look over one interval, not all in one loop turn."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from airflow_dashscope.triggers.fine_tune import DashScopeFineTuneJobTrigger
from airflow_dashscope.waiting.polling import spread_first_pause
from airflow_dashscope.waiting.steps import Pause


def first_pause(trigger: DashScopeFineTuneJobTrigger) -> float:
    step = next(trigger.wait_steps())
    assert isinstance(step, Pause)
    return step.seconds


def test_first_looks_spread_over_the_interval() -> None:
    pauses = [
        first_pause(DashScopeFineTuneJobTrigger(f"ft-{i:04d}", poll_interval=10))
        for i in range(1000)
    ]
    assert all(5.0 <= pause < 15.0 for pause in pauses)
    # Every tenth of the interval gets its share (about 100 each), none gets them all.
    buckets = [0] * 10
    for pause in pauses:
        buckets[int(pause - 5.0)] += 1
    assert min(buckets) > 50, buckets
    assert max(buckets) < 150, buckets


def test_a_trigger_keeps_its_slot_across_restarts() -> None:
    # Rebuilt from its serialized kwargs (as after a triggerer restart): the same first pause.
    trigger = DashScopeFineTuneJobTrigger("ft-stable", poll_interval=30)
    _, kwargs = trigger.serialize()
    again = DashScopeFineTuneJobTrigger(**kwargs)
    assert first_pause(again) == first_pause(trigger)


def test_the_trigger_row_id_places_it_when_known() -> None:
    one = DashScopeFineTuneJobTrigger("ft-same", poll_interval=30)
    other = DashScopeFineTuneJobTrigger("ft-same", poll_interval=30)
    one.trigger_id, other.trigger_id = 1, 2
    assert first_pause(one) == spread_first_pause(30, "trigger:1")
    assert first_pause(one) != first_pause(other)


def test_later_pauses_are_the_interval() -> None:
    flow = DashScopeFineTuneJobTrigger("ft-x", poll_interval=7).wait_steps()
    next(flow)  # the first pause, spread (tested above)
    flow.send(None)  # the job's GET
    output = {"job_id": "ft-x", "status": "QUEUING"}
    assert flow.send(output) == Pause(7)  # what the driver answers: the endpoint flow's result


def test_the_deadline_still_cuts_the_first_pause() -> None:
    import time

    trigger = DashScopeFineTuneJobTrigger("ft-y", poll_interval=100, end_time=time.time() + 1)
    assert first_pause(trigger) <= 1.0


def test_set_up_waits_for_the_spread_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    # The connection lookup and client lease come after the spread pause, not in the first
    # turn of the loop with every other resumed trigger.
    from airflow_dashscope.hooks.dashscope import DashScopeHook

    borrowed_at: list[float] = []

    async def fake_aget_conn(self: DashScopeHook) -> None:
        borrowed_at.append(asyncio.get_running_loop().time())
        raise asyncio.CancelledError  # ends the run: only the timing matters here

    monkeypatch.setattr(DashScopeHook, "aget_conn", fake_aget_conn)
    trigger = DashScopeFineTuneJobTrigger("ft-setup", poll_interval=0.4)
    trigger.trigger_id = 7

    async def go() -> float:
        started = asyncio.get_running_loop().time()
        with contextlib.suppress(asyncio.CancelledError):
            async for _ in trigger.run():
                pass
        return started

    started = asyncio.run(go())
    assert borrowed_at and borrowed_at[0] - started >= 0.9 * trigger.first_pause()
    assert trigger.first_pause() >= 0.2
