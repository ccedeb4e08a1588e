"""Quotas before money, over the wire: at a limit the task fails at once with the numbers and
the remedy, before any create or upload reaches the service (the emulator counts them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.checks.quotas import AccountQuotaError
from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.operators import DashScopeUploadFileOperator
from tests.operators.conftest import HYPER
from tests.operators.helpers import execute, fine_tune

CREATE = "POST /api/v1/fine-tunes"
UPLOAD = "POST /api/v1/files"


@pytest.fixture(autouse=True)
def limits_restored(emu: RunningEmulator) -> Iterator[None]:
    """The session's emulator keeps its limits across a reset: give the next test them back."""
    saved = emu.settings.limits()
    yield
    emu.set_limits(**saved)


def jobs_made(client: DashScopeClient, emu: RunningEmulator, file_id: str, count: int) -> None:
    """``count`` SUCCEEDED jobs, made directly through the client."""
    for _ in range(count):
        client.create_fine_tune("qwen3-8b", [file_id], training_type="sft", hyper_parameters=HYPER)
        emu.advance(3600)


def test_the_job_over_the_limit_fails_before_any_create(
    client: DashScopeClient,
    emu: RunningEmulator,
    file_id: str,
    make_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu.set_limits(max_jobs=3)
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FINE_TUNE_JOBS", "3")
    jobs_made(client, emu, file_id, 3)
    before = emu.counters()["requests"].get(CREATE, 0)
    with pytest.raises(AccountQuotaError) as raised:
        execute(fine_tune(file_id, deferrable=False), make_context())
    assert "the account has 3 of 3 fine-tune jobs running or succeeded" in str(raised.value)
    assert "DashScopeRetentionOperator" in str(raised.value)
    assert emu.counters()["requests"].get(CREATE, 0) == before  # neither paid nor throttled


def test_a_raised_limit_lets_the_create_through_where_the_service_allows(
    client: DashScopeClient,
    emu: RunningEmulator,
    file_id: str,
    make_context: Any,
    monkeypatch: pytest.MonkeyPatch,
    clock_running: None,
) -> None:
    emu.set_limits(max_jobs=4)  # the account's limit was raised to 4
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FINE_TUNE_JOBS", "4")
    jobs_made(client, emu, file_id, 3)
    done = execute(fine_tune(file_id, deferrable=False), make_context())
    assert done["status"] == "SUCCEEDED"
    assert emu.counters()["jobs_created"] == 4


def test_a_reattach_takes_no_slot(
    client: DashScopeClient,
    emu: RunningEmulator,
    file_id: str,
    make_context: Any,
    monkeypatch: pytest.MonkeyPatch,
    clock_running: None,
) -> None:
    """A retry of a task whose job is in progress waits on it even at the limit."""
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FINE_TUNE_JOBS", "1")
    started = fine_tune(file_id, wait_for_completion=False)
    execute(started, make_context())
    done = execute(fine_tune(file_id, deferrable=False), make_context())
    assert done["status"] == "SUCCEEDED"
    assert emu.counters()["jobs_created"] == 1


def test_no_file_is_uploaded_when_the_file_quota_is_full(
    client: DashScopeClient,
    emu: RunningEmulator,
    training_path: Path,
    make_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FILES", "2")
    for _ in range(2):
        client.upload_file(str(training_path))
    uploads = emu.counters()["requests"][UPLOAD]
    op = DashScopeUploadFileOperator(
        task_id="upload", file_path=str(training_path), reuse_identical_file=False
    )
    with pytest.raises(AccountQuotaError, match=r"has 2 of 2 files .*max_files = 2"):
        execute(op, make_context())
    assert emu.counters()["requests"][UPLOAD] == uploads
    assert len(client.list_files()) == 2
    # The same bytes already stored need no room: the stored file is reused, quota or not.
    reused = DashScopeUploadFileOperator(task_id="upload_again", file_path=str(training_path))
    assert execute(reused, make_context()) in {f.file_id for f in client.list_files()}
    assert emu.counters()["requests"][UPLOAD] == uploads


def test_no_file_is_uploaded_past_the_storage_quota(
    emu: RunningEmulator,
    training_path: Path,
    make_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = training_path.stat().st_size
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FILE_STORAGE_BYTES", str(size - 1))
    op = DashScopeUploadFileOperator(task_id="upload", file_path=str(training_path))
    with pytest.raises(AccountQuotaError, match=rf"this file adds .*\({size} bytes\)"):
        execute(op, make_context())
    assert emu.counters()["files_uploaded"] == 0
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FILE_STORAGE_BYTES", str(size))
    assert execute(op, make_context())
    assert emu.counters()["files_uploaded"] == 1


def test_a_training_file_is_not_uploaded_while_no_job_slot_is_free(
    client: DashScopeClient,
    emu: RunningEmulator,
    file_id: str,
    training_path: Path,
    make_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Week 21 of a year without retention: the fine-tune would fail, so its new file must not
    be uploaded first (it would only take a place among the account's files)."""
    emu.set_limits(max_jobs=2)
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FINE_TUNE_JOBS", "2")
    jobs_made(client, emu, file_id, 2)
    fresh = training_path.with_name("week_21.jsonl")
    fresh.write_text(training_path.read_text() * 2)  # new content: nothing to reuse
    files = len(client.list_files())
    uploads = emu.counters()["requests"][UPLOAD]
    op = DashScopeUploadFileOperator(task_id="upload", file_path=str(fresh))
    with pytest.raises(AccountQuotaError, match="2 of 2 fine-tune jobs"):
        execute(op, make_context())
    assert emu.counters()["requests"][UPLOAD] == uploads
    assert len(client.list_files()) == files
    # A task that opts out uploads it anyway.
    opted_out = DashScopeUploadFileOperator(
        task_id="upload_anyway", file_path=str(fresh), check_job_slot=False
    )
    assert execute(opted_out, make_context()) in {f.file_id for f in client.list_files()}
