"""A member's turn behind the jobs ahead of it for the single training slot does not count
against its ``timeout``: the wait allows ``timeout`` per job ahead plus its own."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.waiting.queue import jobs_ahead, queue_deadline
from tests.operators.conftest import HYPER
from tests.operators.helpers import defer, execute, fine_tune

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def job(job_id: str, status: str, minute: int | None) -> SimpleNamespace:
    created = None if minute is None else T0 + timedelta(minutes=minute)
    return SimpleNamespace(job_id=job_id, status_name=status, create_time=created)


def test_jobs_ahead_are_the_older_ones_in_progress() -> None:
    mine = job("ft-c", "QUEUING", 5)
    account = [
        job("ft-a", "RUNNING", 1),
        job("ft-b", "QUEUING", 2),
        job("ft-old", "SUCCEEDED", 0),
        job("ft-later", "QUEUING", 9),
        job("ft-unknown", "PENDING", None),
        job("ft-same-second", "PENDING", 5),
        mine,
    ]
    assert jobs_ahead(mine, account) == 4  # a, b, one of unknown age, one of the same time
    assert jobs_ahead(job("ft-c", "RUNNING", 5), account) == 0  # it has the slot


def test_the_deadline_is_one_timeout_per_job_ahead_plus_its_own() -> None:
    assert queue_deadline(60, 0, now=1000.0) == 1060.0
    assert queue_deadline(timedelta(minutes=1), 3, now=1000.0) == 1240.0
    assert queue_deadline(None, 3, now=1000.0) is None


def test_the_trigger_of_a_queued_member_carries_the_longer_deadline(
    client: DashScopeClient, emu: RunningEmulator, file_id: str, make_context: Any
) -> None:
    for _ in range(2):  # two jobs ahead (the clock stands still: none has ended)
        client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=HYPER)
    before = time.time()
    trigger = defer(fine_tune(file_id, timeout=100), make_context())
    assert before + 300 <= trigger.end_time <= time.time() + 300


def test_a_member_queued_longer_than_its_timeout_still_succeeds(
    client: DashScopeClient,
    emu: RunningEmulator,
    file_id: str,
    make_context: Any,
    clock_running: None,
) -> None:
    """Eight jobs ahead train longer than this member's own timeout (at least 37 emulated
    seconds, 1.85 s at the clock's fastest): counted against it, the wait would give up (and
    cancel the job) while it was only queuing. The wait allows 9 x 1.5 s."""
    for _ in range(8):
        client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=HYPER)
    started = time.monotonic()
    result = execute(fine_tune(file_id, timeout=1.5, deferrable=False), make_context())
    assert result["status"] == "SUCCEEDED"
    assert time.monotonic() - started > 1.5  # it waited longer than its own timeout
