"""The wait as I/O-free flows: stepped by hand, and driven sync and async on the emulator.

The trigger, the worker-side wait and a sensor's poke run the same flows
(``waiting/polling.py`` over ``waiting/watches.py``); only the drivers differ. These tests
check the flows' decisions step by step and that both drivers reach the same event.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from airflow_dashscope.client import AsyncDashScopeClient, DashScopeClient
from airflow_dashscope.client.errors import InternalServerError, NotFoundError
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.client.request import ApiRequest
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.waiting import WaitEvent
from airflow_dashscope.waiting.drive import run_async, run_sync
from airflow_dashscope.waiting.polling import look_steps, wait_steps
from airflow_dashscope.waiting.progress import RecallShown, RecordShown
from airflow_dashscope.waiting.steps import Pause
from airflow_dashscope.waiting.watches import JobWatch

NewJob = Callable[..., FineTuneJob]
log = logging.getLogger("tests.waiting")


def job_body(status: str, **fields: Any) -> dict[str, Any]:
    """A get-job answer as the service sends it."""
    return {"output": {"job_id": "ft-1", "status": status, "model": "qwen3-8b", **fields}}


#: The request each endpoint flow stepped here has sent first.
SENT: weakref.WeakKeyDictionary[Any, ApiRequest] = weakref.WeakKeyDictionary()


def request_of(step: Any) -> ApiRequest:
    """The request an endpoint flow (yielded by a wait flow) sends first."""
    assert not isinstance(step, (Pause, RecallShown, RecordShown)), step
    if inspect.getgeneratorstate(step) == inspect.GEN_CREATED:
        SENT[step] = next(step)
    return SENT[step]


def answer(step: Any, body: Any) -> Any:
    """What the endpoint flow returns for ``body`` (what a driver would send back)."""
    request_of(step)
    try:
        step.send(body)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the endpoint flow asked for more")


def test_the_wait_pauses_first_then_looks_and_ends_with_one_event() -> None:
    flow = wait_steps(
        JobWatch("ft-1", log), poll_interval=7, end_time=None, max_consecutive_errors=3
    )
    assert next(flow) == Pause(7)  # whoever started the wait has just looked
    step = flow.send(None)
    assert request_of(step).path == "/fine-tunes/ft-1"
    step = flow.send(answer(step, job_body("QUEUING")))
    assert step == Pause(7)  # no log asked for while the job has none
    step = flow.send(None)
    step = flow.send(answer(step, job_body("RUNNING")))
    assert step == RecallShown()
    step = flow.send(12)  # a previous trigger showed 12 lines
    assert request_of(step).params == {"offset": 12, "line": 1000}
    step = flow.send(answer(step, {"output": {"total": 14, "logs": ["a", "b"]}}))
    assert step == RecordShown(14)
    assert flow.send(None) == Pause(7)
    step = flow.send(None)
    step = flow.send(answer(step, job_body("FAILED", code="DataError", message="bad")))
    assert request_of(step).params == {"offset": 14, "line": 1000}
    with pytest.raises(StopIteration) as ended:
        flow.send(answer(step, {"output": {"total": 14, "logs": []}}))
    event = ended.value.value
    assert event.status == "failed" and "DataError: bad" in event.message
    assert event.log_offset == 14 and event.last_logs == ["a", "b"]


def drive_by_hand(flow: Any, answers: list[Any]) -> WaitEvent:
    """Run ``flow`` answering its API calls from ``answers`` (an exception is thrown in)."""
    step = next(flow)
    try:
        while True:
            if isinstance(step, Pause | RecallShown | RecordShown):
                step = flow.send(None)
                continue
            given = answers.pop(0)
            if isinstance(given, BaseException):
                request_of(step)
                step = flow.throw(given)
            else:
                step = flow.send(answer(step, given))
    except StopIteration as stop:
        return stop.value


def test_transient_errors_in_a_row_end_the_wait_and_a_success_resets_the_count() -> None:
    boom = InternalServerError("boom", status_code=500)
    wait = wait_steps(
        JobWatch("ft-1", log), poll_interval=0, end_time=None, max_consecutive_errors=2
    )
    event = drive_by_hand(wait, [boom, job_body("PENDING"), boom, boom])
    assert event.status == "error" and "after 2 failed polls in a row" in event.message
    assert event.result is not None and event.result["status"] == "PENDING"


def test_a_permanent_error_ends_the_wait_at_once() -> None:
    missing = NotFoundError("no such job", status_code=404)
    wait = wait_steps(
        JobWatch("ft-1", log), poll_interval=0, end_time=None, max_consecutive_errors=5
    )
    event = drive_by_hand(wait, [missing])
    assert event.status == "error" and "no such job" in event.message


def test_a_past_deadline_looks_once_without_pausing() -> None:
    wait = wait_steps(
        JobWatch("ft-1", log), poll_interval=30, end_time=time.time() - 1, max_consecutive_errors=5
    )
    assert not isinstance(next(wait), Pause)


def test_one_look_is_none_while_pending_or_after_a_transient_error() -> None:
    watch = JobWatch("ft-1", log)
    assert drive_by_hand(look_steps(watch), [job_body("QUEUING")]) is None
    assert drive_by_hand(look_steps(watch), [InternalServerError("x", status_code=503)]) is None
    done = drive_by_hand(look_steps(watch), [job_body("SUCCEEDED"), {"output": {"logs": []}}])
    assert done is not None and done.status == "success"
    with pytest.raises(NotFoundError):
        drive_by_hand(look_steps(watch), [NotFoundError("gone", status_code=404)])


def both_drivers(emu: RunningEmulator, make_flow: Callable[[], Any]) -> tuple[Any, Any]:
    """The same flow run by the sync driver and by the async one, on the emulator."""
    with DashScopeClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        sync = run_sync(make_flow(), client)

    async def run() -> Any:
        async with AsyncDashScopeClient(api_key=emu.api_key, base_url=emu.base_url) as aclient:
            return await run_async(make_flow(), aclient)

    return sync, asyncio.run(run())


def test_both_drivers_reach_the_same_event_for_a_failed_job(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    emu.advance(3)
    emu.fail_job(job.job_id, "DataError", "Bad line 7")
    sync, async_ = both_drivers(
        emu,
        lambda: wait_steps(
            JobWatch(job.job_id, log), poll_interval=0, end_time=None, max_consecutive_errors=2
        ),
    )
    assert sync == async_
    assert sync.status == "failed" and "DataError: Bad line 7" in sync.message
    assert sync.log_offset > 0 and "Bad line 7" in sync.last_logs[-1]


def test_both_drivers_tolerate_transient_errors_alike(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    emu.advance(60)

    def flow() -> Any:
        emu.inject_fault(kind="error", status=503, count=2, path="/fine-tunes/")
        return wait_steps(
            JobWatch(job.job_id, log), poll_interval=0, end_time=None, max_consecutive_errors=3
        )

    sync, async_ = both_drivers(emu, flow)
    assert sync.status == async_.status == "success"
    assert emu.counters()["faults_triggered"] == 4


def test_the_sync_driver_sleeps_the_pauses_and_keeps_the_deadline(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    started = time.monotonic()
    with DashScopeClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        event = run_sync(
            wait_steps(
                JobWatch(job.job_id, log),
                poll_interval=3600,
                end_time=time.time() + 0.3,
                max_consecutive_errors=5,
            ),
            client,
        )
    assert event.status == "timeout" and "last status PENDING" in event.message
    assert 0.25 < time.monotonic() - started < 5
    assert emu.counters()["requests"]["GET /api/v1/fine-tunes/{job_id}"] == 1


@pytest.fixture
def no_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to start an event loop (the worker and poke() must not need one)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an event loop was started on the worker")

    monkeypatch.setattr(asyncio, "run", refuse)
    monkeypatch.setattr(asyncio, "new_event_loop", refuse)


def test_the_worker_side_wait_runs_without_an_event_loop(
    emu: RunningEmulator, new_job: NewJob, no_event_loop: None
) -> None:
    from airflow_dashscope.operators import DashScopeFineTuneOperator

    job = new_job()
    emu.advance(60)
    op = DashScopeFineTuneOperator(
        task_id="t",
        model="qwen3-8b",
        training_file_ids="f",
        hyper_parameters={"n_epochs": 1, "batch_size": 8, "max_length": 1024},
        deferrable=False,
        poll_interval=0.01,
    )
    event = op.wait_on_worker(job.job_id, None, 0)
    assert event.status == "success" and event.log_offset > 0


def test_sensor_pokes_run_without_an_event_loop(
    emu: RunningEmulator, new_job: NewJob, no_event_loop: None
) -> None:
    from airflow_dashscope.sensors import DashScopeFineTuneJobSensor

    job = new_job()
    sensor = DashScopeFineTuneJobSensor(task_id="s", job_id=job.job_id, poke_interval=0.01)
    assert sensor.poke({}) is False
    emu.advance(60)
    assert sensor.execute({})["status"] == "SUCCEEDED"
