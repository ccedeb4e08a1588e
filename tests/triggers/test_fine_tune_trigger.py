"""The fine-tune trigger against the emulator: every way a wait can end, logs, and on_kill."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.triggers import DashScopeFineTuneJobTrigger
from airflow_dashscope.waiting import WaitEvent, remote_log_line, user_action

from .conftest import finish_job, polled, run_trigger

NewJob = Callable[..., FineTuneJob]
POLL = 0.01


WAITING_STATUSES = ("PENDING", "QUEUING", "RUNNING")


def trigger_for(job: FineTuneJob, **options: Any) -> DashScopeFineTuneJobTrigger:
    options.setdefault("poll_interval", POLL)
    return DashScopeFineTuneJobTrigger(job.job_id, dashscope_conn_id="dashscope_default", **options)


async def run_while(
    emu: RunningEmulator, trigger: DashScopeFineTuneJobTrigger, act: Callable[[], Any]
) -> WaitEvent:
    """Start the trigger, let it poll a few times, act on the emulator, then collect its event."""
    task = asyncio.create_task(run_trigger(trigger))
    await polled(emu, "GET /api/v1/fine-tunes/{job_id}", times=3)
    assert not task.done(), "the trigger ended before the job did"
    act()
    payload = await asyncio.wait_for(task, timeout=30)
    return WaitEvent.from_dict(payload)


async def test_success_logs_status_changes_and_remote_log_lines(
    emu: RunningEmulator, new_job: NewJob, capsys: pytest.CaptureFixture[str]
) -> None:
    job = new_job()
    event = await run_while(emu, trigger_for(job), lambda: finish_job(emu))
    assert event.status == "success", event
    assert event.resource == "fine_tune" and event.id == job.job_id
    assert event.result is not None and event.result["status"] == "SUCCEEDED"
    assert event.result["finetuned_output"]
    assert event.log_offset > 0
    logged = capsys.readouterr().out  # Airflow's structlog writes the trigger log to stdout
    # The first look (spread over 0.5-1.5 intervals) sees it pending, queued or running.
    seen_waiting = [f"DashScope fine-tune job {job.job_id} is {s}" for s in WAITING_STATUSES]
    assert any(line in logged for line in seen_waiting), logged
    assert f"DashScope fine-tune job {job.job_id} is SUCCEEDED" in logged
    remote = DashScopeClient(api_key=emu.api_key, base_url=emu.base_url).get_fine_tune_logs(
        job.job_id
    )
    # Every remote line exactly once, in order, its Beijing-time stamp shown in UTC.
    shown = [line for line in remote.logs if f"[{job.job_id}] {remote_log_line(line)}" in logged]
    assert shown == remote.logs and event.log_offset == remote.total
    assert logged.count(f"[{job.job_id}] {remote_log_line(remote.logs[0])}") == 1
    assert remote_log_line(remote.logs[0]) != remote.logs[0]


def test_remote_timestamps_are_shown_in_utc() -> None:
    line = "2024-10-29 17:03:47,719 - INFO - transfer for inference succeeded"
    assert (
        remote_log_line(line)
        == "2024-10-29T09:03:47.719Z - INFO - transfer for inference succeeded"
    )
    assert remote_log_line("2025-11-27 20:33:15 [INFO] x") == "2025-11-27T12:33:15Z [INFO] x"
    assert remote_log_line(" Uploaded checkpoint!") == " Uploaded checkpoint!"


async def test_a_waiting_job_costs_one_request_per_poll(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    """No log is asked for while the job is PENDING or QUEUING (it has none yet)."""
    job = new_job()
    task = asyncio.create_task(run_trigger(trigger_for(job)))
    await polled(emu, "GET /api/v1/fine-tunes/{job_id}", times=4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "GET /api/v1/fine-tunes/{job_id}/logs" not in emu.counters()["requests"]


async def test_the_first_poll_waits_one_interval(emu: RunningEmulator, new_job: NewJob) -> None:
    """The operator looked just before deferring: the trigger's first poll comes one
    poll_interval later (here cut short by the deadline), so it looks once, not twice."""
    job = new_job()
    trigger = trigger_for(job, poll_interval=3600, end_time=time.time() + 0.2)
    event = WaitEvent.from_dict(await run_trigger(trigger))
    assert event.status == "timeout"
    assert emu.counters()["requests"]["GET /api/v1/fine-tunes/{job_id}"] == 1


async def test_resumes_logs_from_offset(emu: RunningEmulator, new_job: NewJob) -> None:
    job = new_job()
    finish_job(emu)
    first = WaitEvent.from_dict(await run_trigger(trigger_for(job)))
    again = WaitEvent.from_dict(await run_trigger(trigger_for(job, log_offset=first.log_offset)))
    assert again.status == "success"
    assert again.log_offset == first.log_offset and again.last_logs == []


async def test_failed_job_reports_code_message_and_last_logs(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    event = await run_while(
        emu, trigger_for(job), lambda: emu.fail_job(job.job_id, "DataError", "Bad line 7")
    )
    assert event.status == "failed"
    assert "DataError: Bad line 7" in event.message
    assert event.result is not None and event.result["code"] == "DataError"
    assert event.last_logs and "Job failed: DataError: Bad line 7" in event.last_logs[-1]
    assert len(event.last_logs) <= 20
    assert "Bad line 7" in event.explain() and event.last_logs[-1] in event.explain()


async def test_canceled_job(emu: RunningEmulator, new_job: NewJob, client: DashScopeClient) -> None:
    job = new_job()

    def cancel() -> None:
        client.cancel_fine_tune(job.job_id)
        emu.advance(5)

    event = await run_while(emu, trigger_for(job), cancel)
    assert event.status == "canceled"
    assert event.result is not None and event.result["status"] == "CANCELED"


async def test_deadline_in_the_past_times_out_after_one_look(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    payload = await run_trigger(trigger_for(job, end_time=time.time() - 1))
    event = WaitEvent.from_dict(payload)
    assert event.status == "timeout"
    assert "Timed out" in event.message and "PENDING" in event.message
    assert emu.counters()["requests"]["GET /api/v1/fine-tunes/{job_id}"] == 1


async def test_near_deadline_times_out_without_overshooting(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    started = time.monotonic()
    event = WaitEvent.from_dict(
        await run_trigger(trigger_for(job, poll_interval=30, end_time=time.time() + 0.3))
    )
    assert event.status == "timeout"
    # The sleep is cut to the deadline: no waiting out a whole poll interval.
    assert time.monotonic() - started < 5


async def test_gives_up_after_max_consecutive_transient_errors(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    emu.inject_fault(kind="error", status=503, count=3, path="/fine-tunes/")
    event = WaitEvent.from_dict(await run_trigger(trigger_for(job, max_consecutive_errors=3)))
    assert event.status == "error"
    assert "after 3 failed polls in a row" in event.message
    assert emu.counters()["faults_triggered"] == 3


async def test_tolerates_fewer_transient_errors(emu: RunningEmulator, new_job: NewJob) -> None:
    job = new_job()
    finish_job(emu)
    emu.inject_fault(kind="error", status=500, count=2, path="/fine-tunes/")
    emu.inject_fault(kind="drop", count=2, path="/fine-tunes/")
    event = WaitEvent.from_dict(await run_trigger(trigger_for(job, max_consecutive_errors=5)))
    assert event.status == "success", event


async def test_permanent_error_ends_at_once(emu: RunningEmulator) -> None:
    trigger = DashScopeFineTuneJobTrigger("ft-000000000000-dead", poll_interval=POLL)
    event = WaitEvent.from_dict(await run_trigger(trigger))
    assert event.status == "error" and "ft-000000000000-dead" in event.message
    assert emu.counters()["requests_total"] == 1


async def test_missing_connection_is_an_error_event(
    emu: RunningEmulator, new_job: NewJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_DASHSCOPE_NOKEY", json.dumps({"conn_type": "dashscope"}))
    trigger = DashScopeFineTuneJobTrigger("ft-1", dashscope_conn_id="dashscope_nokey")
    event = WaitEvent.from_dict(await run_trigger(trigger))
    assert event.status == "error" and "API key" in event.message


async def test_one_pooled_connection_per_run(emu: RunningEmulator, new_job: NewJob) -> None:
    job = new_job()
    before = emu.counters()["connections"]
    event = await run_while(emu, trigger_for(job), lambda: finish_job(emu))
    assert event.status == "success"
    counters = emu.counters()
    assert counters["requests"]["GET /api/v1/fine-tunes/{job_id}"] >= 3
    assert counters["connections"] - before == 1


def with_task_instance(trigger: DashScopeFineTuneJobTrigger) -> DashScopeFineTuneJobTrigger:
    """What the triggerer sets on a trigger it runs for a deferred task."""
    trigger.task_instance = SimpleNamespace(  # type: ignore[assignment]
        dag_id="dag", task_id="finetune", run_id="manual__1", map_index=-1
    )
    return trigger


@pytest.fixture
def task_state(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The deferred task instance's state, as the triggerer's supervisor would answer it."""
    state: dict[str, Any] = {"value": None, "asked": []}

    async def current(key: user_action.TaskInstanceKey) -> str | None:
        state["asked"].append(key)
        return state["value"]

    monkeypatch.setattr(user_action, "acurrent_state", current)
    return state


@pytest.mark.parametrize(
    ("state", "cancelled"),
    [("failed", True), ("success", False), (None, False), ("scheduled", False)],
    ids=["mark-failed", "mark-success", "clear", "clear-rescheduled"],
)
async def test_on_kill_cancels_only_a_task_marked_failed(
    state: str | None,
    cancelled: bool,
    emu: RunningEmulator,
    new_job: NewJob,
    client: DashScopeClient,
    task_state: dict[str, Any],
) -> None:
    job = new_job()
    task_state["value"] = state
    await with_task_instance(trigger_for(job)).on_kill()
    (asked,) = task_state["asked"]
    assert (asked.dag_id, asked.task_id, asked.run_id) == ("dag", "finetune", "manual__1")
    sent = emu.counters()["requests"].get("POST /api/v1/fine-tunes/{job_id}/cancel", 0)
    assert sent == int(cancelled)
    status = client.get_fine_tune(job.job_id).status_name
    assert (status in ("CANCELING", "CANCELED")) is cancelled


async def test_on_kill_respects_cancel_on_kill_and_terminal_jobs(
    emu: RunningEmulator, new_job: NewJob, task_state: dict[str, Any]
) -> None:
    task_state["value"] = "failed"
    job = new_job()
    await with_task_instance(trigger_for(job, cancel_on_kill=False)).on_kill()
    finished = new_job()
    emu.advance(60)
    await with_task_instance(trigger_for(finished)).on_kill()
    # A trigger without a task instance (not run by a triggerer) cannot tell: it keeps the job.
    await trigger_for(new_job()).on_kill()
    assert "POST /api/v1/fine-tunes/{job_id}/cancel" not in emu.counters()["requests"]


async def test_cleanup_and_cancellation_never_cancel_the_job(
    emu: RunningEmulator, new_job: NewJob, client: DashScopeClient
) -> None:
    """A triggerer restart cancels the run task and calls cleanup(): the job must survive."""
    job = new_job()
    trigger = trigger_for(job)
    task = asyncio.create_task(run_trigger(trigger))
    await polled(emu, "GET /api/v1/fine-tunes/{job_id}", times=2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await trigger.cleanup()
    assert "POST /api/v1/fine-tunes/{job_id}/cancel" not in emu.counters()["requests"]
    assert client.get_fine_tune(job.job_id).status_name in ("PENDING", "QUEUING", "RUNNING")


class FakeSupervisor:
    """The triggerer's supervisor end of the comms channel, for XComs only (a real one needs
    a running triggerer; tests/e2e has that)."""

    def __init__(self) -> None:
        self.xcoms: dict[tuple[str, str, str, int, str], Any] = {}

    async def asend(self, message: Any) -> Any:
        from airflow.sdk.execution_time.comms import XComResult

        key = (message.dag_id, message.run_id, message.task_id, message.map_index, message.key)
        if type(message).__name__ == "SetXCom":
            self.xcoms[key] = message.value
            return None
        return XComResult(key=message.key, value=self.xcoms.get(key))


async def test_a_restarted_trigger_continues_the_log_where_the_last_one_stopped(
    emu: RunningEmulator,
    new_job: NewJob,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from airflow.sdk.execution_time import task_runner

    supervisor = FakeSupervisor()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", supervisor, raising=False)
    job = new_job()
    emu.advance(4)  # running, a few lines logged (the clock then stands still)
    first = with_task_instance(trigger_for(job))
    task = asyncio.create_task(run_trigger(first))
    for _ in range(1000):  # until the first trigger has shown and recorded some lines
        if supervisor.xcoms:
            break
        await asyncio.sleep(0.01)
    assert next(iter(supervisor.xcoms.values())) > 0
    task.cancel()  # the triggerer restarts: the trigger is rebuilt from its deferral kwargs
    with pytest.raises(asyncio.CancelledError):
        await task
    assert first.serialize()[1]["log_offset"] == 0
    finish_job(emu)
    event = WaitEvent.from_dict(await run_trigger(with_task_instance(trigger_for(job))))
    assert event.status == "success"
    logged = capsys.readouterr().out
    remote = DashScopeClient(api_key=emu.api_key, base_url=emu.base_url).get_fine_tune_logs(
        job.job_id
    )
    for line in remote.logs:  # every line shown, none twice
        assert logged.count(f"[{job.job_id}] {remote_log_line(line)}") == 1, line
    assert "Resuming the remote log after line" in logged
