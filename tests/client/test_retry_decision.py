"""One retry decision: ``DashScopeError.retryable``, read alike by the client's retry loop,
the task's error (fatal exactly when not retryable) and the waiting code. Whether repeating a
call is *safe* is a second, separate question (``safe_to_repeat``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_dashscope.client.config import ClientConfig, Secret
from airflow_dashscope.client.endpoints.files import UploadFailedError
from airflow_dashscope.client.errors import (
    BaseUrlError,
    BillingError,
    DashScopeConfigError,
    DashScopeError,
    DashScopeTransportError,
    ResourceLimitError,
    UnexpectedAnswerError,
)
from airflow_dashscope.client.request import ApiRequest
from airflow_dashscope.client.retry import safe_to_repeat, should_retry
from airflow_dashscope.client.transport import api_error, retry_delay
from airflow_dashscope.compat import AirflowFailException
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import DashScopeTaskError, task_error_for
from airflow_dashscope.waiting import is_transient
from tests.client.conftest import FAST_RETRY, HYPER, Call


def answer(status: int, code: str | None, message: str = "m") -> DashScopeError:
    return api_error(status, {}, {"code": code, "message": message})


ONLY_20 = "Only 20 fine-tune job in running or succeeded allowed per user."

#: (what went wrong, can the same call succeed later?)
TABLE: list[tuple[str, DashScopeError, bool]] = [
    ("connect refused", DashScopeTransportError("x", request_sent=False), True),
    ("read timeout", DashScopeTransportError("x", request_sent=True), True),
    ("rate limit", answer(429, "Throttling.RateQuota"), True),
    ("burst", answer(429, "Throttling.BurstRate"), True),
    ("throttled", answer(429, "Throttling", "Requests throttling triggered."), True),
    ("TPM quota", answer(429, "Throttling.AllocationQuota", "Allocated quota exceeded."), True),
    (
        "free quota gone",
        answer(429, "Throttling.AllocationQuota", "Free allocated quota exceeded."),
        False,
    ),
    ("20 jobs", answer(429, "Throttling", ONLY_20), False),
    (
        "jobs running",
        answer(429, "Throttling", "Too many fine-tune job in running, please retry later."),
        False,
    ),
    ("file count", answer(400, None, "Upload file number exceed limit."), False),
    (
        "voices",
        answer(429, "Throttling.AllocationQuota", "Maximum voice-clone voice limit exceeded."),
        False,
    ),
    ("billing", answer(400, "Arrearage"), False),
    ("not purchased", answer(429, "CommodityNotPurchased"), False),
    ("bad parameter", answer(400, "InvalidParameter"), False),
    ("bad key", answer(401, "InvalidApiKey"), False),
    ("forbidden", answer(403, None), False),
    ("unknown id", answer(404, "NotFound"), False),
    ("unknown workspace", answer(404, "WorkSpaceNotFound"), False),
    ("conflict", answer(409, "Conflict"), False),
    ("unsupported", answer(400, "UnsupportedOperation"), False),
    ("500", answer(500, "InternalError"), True),
    ("502", answer(502, None), True),
    ("503", answer(503, "ServiceUnavailable"), True),
    ("504", answer(504, None), True),
    ("config", DashScopeConfigError("no key"), False),
    ("base url", BaseUrlError("Not Found", url="http://h/x", status_code=404), False),
    ("not JSON", UnexpectedAnswerError("not JSON"), True),
    ("upload refused", UploadFailedError("a.jsonl", "BadRequest.TooMany", "Out of number"), False),
    ("anything else", DashScopeError("x"), False),
]

CONFIG = ClientConfig(api_key=Secret("k"), base_url="http://127.0.0.1:1/api/v1", retry=FAST_RETRY)


@pytest.mark.parametrize(("what", "error", "retryable"), TABLE, ids=[row[0] for row in TABLE])
def test_the_client_the_task_and_the_waiting_code_agree(
    what: str, error: DashScopeError, retryable: bool
) -> None:
    assert error.retryable is retryable
    # The client retries a call that is safe to repeat (a GET) exactly when it is retryable.
    read = ApiRequest("GET", "/fine-tunes")
    assert (retry_delay(CONFIG, read, error, 0) is not None) is retryable
    # The task fails for good exactly when it is not.
    task_error = task_error_for(error, "doing it")
    assert isinstance(task_error, DashScopeTaskError)
    assert isinstance(task_error, AirflowFailException) is not retryable
    # A trigger or a sensor polls again exactly when it is.
    assert is_transient(error) is retryable


def test_count_limits_are_resource_limit_errors_saying_what_to_delete() -> None:
    error = answer(429, "Throttling", ONLY_20)
    assert isinstance(error, ResourceLimitError)
    first, *rest = str(error).splitlines()
    assert "no retry helps" in first and "Delete" in first
    assert ONLY_20 in rest[0] and "HTTP 429 Throttling" in rest[1]
    assert isinstance(answer(429, "Arrearage"), BillingError)


@pytest.mark.parametrize(
    ("error", "safe"),
    [
        (DashScopeTransportError("x", request_sent=False), True),
        (DashScopeTransportError("x", request_sent=True), False),
        (answer(429, "Throttling.RateQuota"), True),
        (answer(503, None), False),
    ],
)
def test_a_create_is_repeated_only_when_the_service_surely_did_not_act(
    error: DashScopeError, safe: bool
) -> None:
    assert safe_to_repeat(error, idempotent=True)
    assert safe_to_repeat(error, idempotent=False) is safe
    assert should_retry(error, idempotent=False) is safe


def test_the_20_jobs_limit_is_sent_once_and_fails_the_task_for_good(
    api: Call,
    dashscope_emulator: RunningEmulator,
    training_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dashscope_emulator.emulator.settings, "max_jobs", 1)
    file_id = api("upload_file", training_file)
    api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER)
    dashscope_emulator.advance(3600)  # the one job SUCCEEDED: the account is at its limit
    creates = "POST /api/v1/fine-tunes"
    before = dashscope_emulator.counters()["requests"].get(creates, 0)
    with pytest.raises(ResourceLimitError, match="Only 20 fine-tune job") as raised:
        api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER)
    assert dashscope_emulator.counters()["requests"][creates] == before + 1
    assert not raised.value.retryable
    assert isinstance(task_error_for(raised.value, "creating"), AirflowFailException)
