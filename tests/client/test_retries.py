"""Retries: backoff on 429/5xx, Retry-After, giving up, and creates that never make two."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from airflow_dashscope.client import (
    DashScopeClient,
    DashScopeTransportError,
    InternalServerError,
    RetryPolicy,
)
from airflow_dashscope.client.retry import parse_retry_after
from airflow_dashscope.emulator.runner import RunningEmulator

from .conftest import FAST_RETRY, HYPER, Call, config_for

LIST_JOBS = "GET /api/v1/fine-tunes"
CREATE_JOB = "POST /api/v1/fine-tunes"


def _requests(emulator: RunningEmulator, endpoint: str) -> int:
    return int(emulator.counters()["requests"].get(endpoint, 0))


def test_transient_errors_are_retried(api: Call, dashscope_emulator: RunningEmulator) -> None:
    dashscope_emulator.inject_fault(status=503, count=2, path="/fine-tunes$")
    assert api("list_fine_tunes_page").total == 0
    assert _requests(dashscope_emulator, LIST_JOBS) == 3


def test_gives_up_after_max_retries(api: Call, dashscope_emulator: RunningEmulator) -> None:
    dashscope_emulator.inject_fault(status=500, count=50, path="/fine-tunes$")
    with pytest.raises(InternalServerError):
        api("list_fine_tunes_page")
    assert _requests(dashscope_emulator, LIST_JOBS) == FAST_RETRY.max_retries + 1


def test_retry_after_is_honoured(dashscope_emulator: RunningEmulator) -> None:
    dashscope_emulator.inject_fault(status=429, count=1, retry_after=0.3, path="/fine-tunes$")
    policy = RetryPolicy(max_retries=2, backoff=0.001, max_backoff=0.001)
    with DashScopeClient(config_for(dashscope_emulator, retry=policy)) as client:
        started = time.monotonic()
        client.list_fine_tunes_page()
        assert time.monotonic() - started >= 0.3


def test_retry_after_longer_than_the_cap_is_not_waited_for(
    dashscope_emulator: RunningEmulator,
) -> None:
    dashscope_emulator.inject_fault(status=429, count=1, retry_after=3600, path="/fine-tunes$")
    with (
        DashScopeClient(config_for(dashscope_emulator)) as client,
        pytest.raises(Exception, match="429"),
    ):
        client.list_fine_tunes_page()


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470) == 10
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=10, backoff=0.5, max_backoff=8.0, jitter=0.25)
    delays = [policy.backoff_delay(n) for n in range(8)]
    assert 0.5 <= delays[0] <= 0.625 and 1.0 <= delays[1] <= 1.25
    assert all(8.0 <= d <= 10.0 for d in delays[4:])
    assert policy.delay(10, None) is None


def test_a_create_is_not_repeated_blindly_after_a_server_error(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    """A 500 on create may hide a job that exists: look it up before trying again."""
    file_id = api("upload_file", training_file)
    dashscope_emulator.inject_fault(status=500, count=1, method="POST", path="/fine-tunes$")
    job = api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER)
    assert dashscope_emulator.counters()["jobs_created"] == 1
    assert _requests(dashscope_emulator, CREATE_JOB) == 2
    assert _requests(dashscope_emulator, LIST_JOBS) >= 1  # reconciled before the second try
    assert api("get_fine_tune", job.job_id).job_id == job.job_id


def test_a_dropped_create_reconciles_and_makes_one_job(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    file_id = api("upload_file", training_file)
    dashscope_emulator.inject_fault(kind="drop", count=1, method="POST", path="/fine-tunes$")
    job = api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER, job_name="n1")
    assert dashscope_emulator.counters()["jobs_created"] == 1
    assert [j.job_id for j in api("find_fine_tunes_by_name", "n1")] == [job.job_id]


def test_a_create_that_keeps_failing_gives_up_without_duplicates(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    file_id = api("upload_file", training_file)
    dashscope_emulator.inject_fault(kind="drop", count=10, method="POST", path="/fine-tunes$")
    with pytest.raises(DashScopeTransportError) as caught:
        api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER)
    assert caught.value.request_sent
    assert dashscope_emulator.counters()["jobs_created"] == 0
    # As many tries as the retry policy allows, each one (the last too) looked up after.
    tries = FAST_RETRY.max_retries + 1
    assert _requests(dashscope_emulator, CREATE_JOB) == tries
    assert _requests(dashscope_emulator, LIST_JOBS) == tries


def test_one_pooled_connection_serves_many_calls(
    api: Call, dashscope_emulator: RunningEmulator
) -> None:
    for _ in range(20):
        api("list_fine_tunes_page")
    assert dashscope_emulator.counters()["connections"] == 1


def test_a_create_whose_answer_is_lost_is_found_again_not_repeated(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    """The server made the job but the answer never came back: find it, make no second."""
    file_id = api("upload_file", training_file)
    dashscope_emulator.inject_fault(kind="drop_after", count=1, method="POST", path="/fine-tunes$")
    job = api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER, job_name="n2")
    assert dashscope_emulator.counters()["jobs_created"] == 1
    assert _requests(dashscope_emulator, CREATE_JOB) == 1
    assert [j.job_id for j in api("list_fine_tunes")] == [job.job_id]


def test_a_user_job_name_reused_across_runs_is_not_mistaken_for_the_lost_create(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    file_id = api("upload_file", training_file)
    older = api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER, job_name="n3")
    dashscope_emulator.inject_fault(kind="drop_after", count=1, method="POST", path="/fine-tunes$")
    newer = api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER, job_name="n3")
    assert newer.job_id != older.job_id
    assert dashscope_emulator.counters()["jobs_created"] == 2


def test_a_deployment_whose_answer_is_lost_is_not_made_twice(
    api: Call, dashscope_emulator: RunningEmulator
) -> None:
    dashscope_emulator.inject_fault(kind="drop_after", count=1, method="POST", path="/deployments$")
    deployment = api(
        "create_deployment", "qwen-plus-2025-12-01", plan="mu", deploy_spec="MU1", name="d1"
    )
    assert dashscope_emulator.counters()["deployments_created"] == 1
    assert [d.deployed_model for d in api("list_deployments")] == [deployment.deployed_model]
